// A data file opened for reads at byte offsets, shared by the IDX, pickle and CIFAR readers: each read is
// checked to be complete, and a missing file, a directory, an empty file or a gzip-compressed one is refused
// at open with one line naming the file and what was expected.
import * as fs from 'node:fs';
import { UserError } from '../util/errors.js';
import { openForReading } from '../util/files.js';

export class BinaryFile {
  private fd: number | null;

  private constructor(fd: number, readonly path: string, readonly size: number) {
    this.fd = fd;
  }

  /**
   * Opens `path`, expected to be `what` (e.g. 'an IDX file'). A gzip magic (0x1f 0x8b) is refused
   * with `gzipHint` (what to do instead); an empty file is refused.
   */
  static open(path: string, what: string, gzipHint: string): BinaryFile {
    const fd = openForReading(path);
    try {
      const st = fs.fstatSync(fd);
      if (st.isDirectory()) throw new UserError(`${path}: is a directory, expected ${what}`);
      if (st.size === 0) throw new UserError(`${path}: empty file, expected ${what}`);
      const file = new BinaryFile(fd, path, st.size);
      const head = new Uint8Array(2);
      if (st.size >= 2) file.read(head, 0, 2, 0);
      if (head[0] === 0x1f && head[1] === 0x8b) throw new UserError(`${path}: file is gzip-compressed, expected ${what} (${gzipHint})`);
      return file;
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** Copies n bytes at byte `pos` into dst at dstOff; a short read (the file shrank) is a UserError. */
  read(dst: Uint8Array, dstOff: number, n: number, pos: number): void {
    if (this.fd === null) throw new Error(`${this.path}: already closed`);
    let done = 0;
    while (done < n) {
      const got = fs.readSync(this.fd, dst, dstOff + done, n - done, pos + done);
      if (got === 0) throw new UserError(`${this.path}: unexpected end of file at byte ${pos + done} (file changed while reading?)`);
      done += got;
    }
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
