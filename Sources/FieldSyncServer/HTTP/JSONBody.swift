import FieldSyncCore
import Hummingbird
import NIOCore

/// Reading and writing JSON bodies with the protocol's rules.
enum JSONBody {
    /// Collects the body up to `limit` bytes (413 `too_large` beyond) and parses it
    /// strictly (400 `invalid_json` for NaN, Infinity, bad UTF-8, nesting over 64).
    static func read(_ request: Request, limit: Int) async throws -> JSONValue {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.tooLarge("the body is \(length) bytes; the limit is \(limit) (FIELDSYNC_MAX_PUSH_BYTES)")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            // A body without Content-Length (chunked) that outgrew the limit while collected.
            throw APIError.tooLarge("the body is larger than the limit of \(limit) bytes (FIELDSYNC_MAX_PUSH_BYTES)")
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw APIError.tooLarge("the body is larger than the limit of \(limit) bytes (FIELDSYNC_MAX_PUSH_BYTES)")
        }
        do {
            return try buffer.withUnsafeReadableBytes { raw in
                try JSONParser.parse(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
            }
        } catch let failure as JSONParser.Failure {
            throw APIError.invalidJSON("the body is not valid JSON: \(failure.description)")
        }
    }

    /// A JSON response.
    static func response(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var w = JSONWriter(capacity: 1024)
        w.write(value)
        return response(bytes: w.bytes, status: status)
    }

    /// A response whose body is already JSON.
    static func response(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
