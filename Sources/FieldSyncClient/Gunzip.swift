import CZlib

/// Reads a whole gzip stream (answers sent with `Content-Encoding: gzip`).
public enum Gunzip {
    /// The decompressed bytes, or `nil` when the stream is damaged, truncated or
    /// would exceed `limit` bytes.
    public static func decompress(_ bytes: [UInt8], limit: Int = .max) -> [UInt8]? {
        var stream = z_stream()
        guard fieldsync_inflate_init_gzip(&stream) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        out.reserveCapacity(min(limit, bytes.count * 4))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = bytes
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { inp in
            stream.next_in = inp.baseAddress
            stream.avail_in = uInt(inp.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { c in
                    stream.next_out = c.baseAddress
                    stream.avail_out = uInt(c.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    out.append(contentsOf: c[0..<(c.count - Int(stream.avail_out))])
                }
                if out.count > limit { status = Z_BUF_ERROR; break }
            } while status == Z_OK
        }
        guard status == Z_STREAM_END else { return nil }
        return out
    }
}
