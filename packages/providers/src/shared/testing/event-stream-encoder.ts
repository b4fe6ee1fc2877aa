import { crc32 } from 'node:zlib';

/** Header value type 7 = string in the AWS event stream encoding. */
const stringHeaderType = 7;

/**
 * Encodes one AWS event stream message (the framing of Bedrock's ConverseStream and other AWS
 * streaming APIs): total length, headers length, prelude CRC32, headers, payload, message CRC32,
 * all big-endian. The AWS SDK checks both CRCs, so a wrong frame fails the test loudly.
 */
export function encodeEventStreamMessage(headers: Record<string, string>, payload: string): Uint8Array {
  const headerParts = Object.entries(headers).map(([name, value]) => {
    const nameBytes = Buffer.from(name, 'utf8');
    const valueBytes = Buffer.from(value, 'utf8');
    const part = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
    let offset = part.writeUInt8(nameBytes.length, 0);
    offset += nameBytes.copy(part, offset);
    offset = part.writeUInt8(stringHeaderType, offset);
    offset = part.writeUInt16BE(valueBytes.length, offset);
    valueBytes.copy(part, offset);
    return part;
  });
  const headerBytes = Buffer.concat(headerParts);
  const payloadBytes = Buffer.from(payload, 'utf8');
  const totalLength = 12 + headerBytes.length + payloadBytes.length + 4;
  const message = Buffer.alloc(totalLength);
  message.writeUInt32BE(totalLength, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  headerBytes.copy(message, 12);
  payloadBytes.copy(message, 12 + headerBytes.length);
  message.writeUInt32BE(crc32(message.subarray(0, totalLength - 4)), totalLength - 4);
  return message;
}
