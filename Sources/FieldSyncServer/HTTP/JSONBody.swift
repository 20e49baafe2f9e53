import FieldSyncCore
import Hummingbird
import NIOCore

/// Reading and writing JSON bodies with the protocol's rules.
enum JSONBody {
    /// Collects the body up to `limit` bytes (413 `too_large` beyond) and parses it
    /// strictly (400 `invalid_json` for NaN, Infinity, bad UTF-8, nesting over 64).
    static func read(_ request: Request, limit: Int) async throws -> JSONValue {
        let buffer = try await collect(request, limit: limit, setting: "FIELDSYNC_MAX_PUSH_BYTES")
        do {
            return try buffer.withUnsafeReadableBytes { raw in
                try JSONParser.parse(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count))
            }
        } catch let failure as JSONParser.Failure {
            throw APIError.invalidJSON("the body is not valid JSON: \(failure.description)")
        }
    }

    /// The whole body, at most `limit` bytes (413 `too_large` naming `setting` beyond,
    /// also for a chunked body that outgrows it while collected).
    static func collect(_ request: Request, limit: Int, setting: String) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.tooLarge("the body is \(length) bytes; the limit is \(limit) (\(setting))")
        }
        var request = request
        do {
            return try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge("the body is larger than the limit of \(limit) bytes (\(setting))")
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw APIError.tooLarge("the body is larger than the limit of \(limit) bytes (\(setting))")
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
