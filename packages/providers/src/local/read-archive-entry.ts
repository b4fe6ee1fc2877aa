import type { Readable } from 'node:stream';
import yauzl from 'yauzl';

/** Streams one file out of a zip archive (a wheel or a jar) without unpacking the rest. */
export function readArchiveEntry(archivePath: string, entryName: string): Promise<Readable> {
  return new Promise((resolve, reject) => {
    yauzl.open(archivePath, { lazyEntries: true, autoClose: true }, (openError, zip) => {
      if (openError || zip === undefined) return reject(openError ?? new Error(`cannot open ${archivePath}`));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== entryName) return zip.readEntry();
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || stream === undefined) return reject(streamError ?? new Error(`cannot read ${entryName}`));
          resolve(stream);
        });
      });
      zip.on('end', () => reject(new Error(`${entryName} is not in ${archivePath}`)));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}
