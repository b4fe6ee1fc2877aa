import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * S3's REST wire format on 127.0.0.1, path-style, for the calls S3ArtifactStore makes: PutObject
 * (plain or `aws-chunked` with a trailing checksum, as the SDK streams by default), multipart uploads,
 * HeadObject, GetObject, DeleteObject and ListObjectsV2. S3 cannot run here; this speaks its protocol
 * as documented, keeps objects in memory and records the requests.
 */
export interface FakeS3 {
  readonly url: string;
  readonly objects: Map<string, Buffer>;
  readonly requests: Array<{ method: string; url: string }>;
  /** Makes the next requests answer this status (an S3 error body), e.g. 503. */
  failNext(status: number, count?: number): void;
  close(): Promise<void>;
}

export async function startFakeS3(bucket: string): Promise<FakeS3> {
  const objects = new Map<string, Buffer>();
  const uploads = new Map<string, { key: string; parts: Map<number, Buffer> }>();
  const requests: Array<{ method: string; url: string }> = [];
  let failures: { status: number; count: number } | undefined;

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://s3.local');
    requests.push({ method: req.method ?? '', url: `${url.pathname}${url.search}` });
    const body = await readBody(req);
    if (failures !== undefined && failures.count > 0) {
      failures.count -= 1;
      return error(res, failures.status, 'ServiceUnavailable', 'Please reduce your request rate.');
    }
    const [, bucketName, ...rest] = url.pathname.split('/');
    if (bucketName !== bucket) return error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    const key = decodeURIComponent(rest.join('/'));
    const query = url.searchParams;

    if (key === '' && req.method === 'GET' && query.get('list-type') === '2') {
      const prefix = query.get('prefix') ?? '';
      const contents = [...objects]
        .filter(([name]) => name.startsWith(prefix))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, data]) => `<Contents><Key>${name}</Key><Size>${data.length}</Size></Contents>`)
        .join('');
      return xml(
        res,
        200,
        `<ListBucketResult><Name>${bucket}</Name><Prefix>${prefix}</Prefix><KeyCount>${objects.size}</KeyCount><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
      );
    }
    if (req.method === 'POST' && query.has('uploads')) {
      const uploadId = randomUUID();
      uploads.set(uploadId, { key, parts: new Map() });
      return xml(
        res,
        200,
        `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
      );
    }
    const uploadId = query.get('uploadId');
    if (uploadId !== null) {
      const upload = uploads.get(uploadId);
      if (upload === undefined) return error(res, 404, 'NoSuchUpload', 'The specified upload does not exist');
      if (req.method === 'PUT') {
        const part = Number(query.get('partNumber'));
        upload.parts.set(part, payloadOf(req, body));
        res.writeHead(200, { etag: `"part-${part}"` });
        return res.end();
      }
      if (req.method === 'POST') {
        const parts = [...upload.parts].sort(([a], [b]) => a - b).map(([, data]) => data);
        objects.set(upload.key, Buffer.concat(parts));
        uploads.delete(uploadId);
        return xml(
          res,
          200,
          `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${upload.key}</Key><ETag>"done"</ETag></CompleteMultipartUploadResult>`,
        );
      }
      if (req.method === 'DELETE') {
        uploads.delete(uploadId);
        res.writeHead(204);
        return res.end();
      }
    }
    switch (req.method) {
      case 'PUT':
        objects.set(key, payloadOf(req, body));
        res.writeHead(200, { etag: '"object"' });
        return res.end();
      case 'HEAD': {
        const object = objects.get(key);
        res.writeHead(
          object === undefined ? 404 : 200,
          object === undefined ? {} : { 'content-length': object.length },
        );
        return res.end();
      }
      case 'GET': {
        const object = objects.get(key);
        if (object === undefined) return error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': object.length });
        return res.end(object);
      }
      case 'DELETE':
        objects.delete(key);
        res.writeHead(204);
        return res.end();
      default:
        return error(res, 405, 'MethodNotAllowed', 'The specified method is not allowed');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    objects,
    requests,
    failNext(status, count = 1) {
      failures = { status, count };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The object bytes: `aws-chunked` bodies are `<hex size>\r\n<bytes>\r\n` … `0\r\n<trailers>\r\n\r\n`. */
function payloadOf(req: IncomingMessage, body: Buffer): Buffer {
  if (!String(req.headers['content-encoding'] ?? '').includes('aws-chunked')) return body;
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '0', 16);
    if (!(size > 0)) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function xml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
}

function error(res: ServerResponse, status: number, code: string, message: string): void {
  xml(res, status, `<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fake</RequestId></Error>`);
}
