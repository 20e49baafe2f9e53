import CZlib
import FieldSyncCore
import NIOCore

/// A gzip compressor for streamed answers: feed it chunks, it hands back compressed
/// chunks; memory stays at zlib's window whatever the answer's size.
///
/// Not `Sendable`: one lives inside one response body writer.
final class GzipStream {
    private var stream = z_stream()
    private var finished = false

    init(level: Int32 = 6) throws {
        let status = fieldsync_deflate_init_gzip(&stream, level)
        guard status == Z_OK else { throw APIError.unavailable("zlib could not start (status \(status))") }
    }

    deinit {
        deflateEnd(&stream)
    }

    /// Compresses `input`; the answer may be empty (zlib keeps data until it has a block).
    func compress(_ input: ByteBuffer, allocator: ByteBufferAllocator = .init()) -> ByteBuffer {
        run(input, flush: Z_NO_FLUSH, allocator: allocator)
    }

    /// Ends the stream: the remaining compressed bytes and the gzip trailer.
    func finish(allocator: ByteBufferAllocator = .init()) -> ByteBuffer {
        guard !finished else { return allocator.buffer(capacity: 0) }
        finished = true
        return run(allocator.buffer(capacity: 0), flush: Z_FINISH, allocator: allocator)
    }

    private func run(_ input: ByteBuffer, flush: Int32, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: Swift.max(1024, input.readableBytes / 2))
        var input = input
        input.withUnsafeMutableReadableBytes { raw in
            stream.next_in = raw.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = uInt(raw.count)
            while true {
                out.reserveCapacity(minimumWritableBytes: 16 * 1024)
                let written = out.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 * 1024) { dest in
                    stream.next_out = dest.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(dest.count)
                    _ = deflate(&stream, flush)
                    return dest.count - Int(stream.avail_out)
                }
                let outputFull = stream.avail_out == 0
                if flush == Z_FINISH {
                    if !outputFull && stream.avail_in == 0 { break }
                } else if stream.avail_in == 0 && !outputFull {
                    break
                }
                _ = written
            }
            stream.next_in = nil
        }
        return out
    }
}
