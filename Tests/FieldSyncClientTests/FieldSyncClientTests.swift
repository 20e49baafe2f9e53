import FieldSyncClient
import FieldSyncCore
import Foundation
import Testing

/// ``FieldSyncClient`` against ``StubServer``: the requests it builds, how it reads
/// answers and errors, and when it retries.
struct FieldSyncClientTests {
    static let user = #"{"id":"u1","username":"amina","role":"agent","accountId":"a1","projectIds":["p1"],"orgUnitIds":["o1","o2"]}"#

    @Test func signInSendsTheProtocolsBodyAndKeepsTheTokenForLaterRequests() async throws {
        let stub = StubServer([
            "POST /v1/auth/token": [.json(#"{"token":"t-123","expiresAt":"2027-01-01T00:00:00.000Z","user":\#(Self.user),"extra":1}"#)],
            "GET /v1/users/me": [.json(Self.user)],
        ])
        let device = try #require(UUID(uuidString: "0D000000-0000-4000-8000-00000000000A"))
        let (answer, me) = try await stub.run { client in
            let answer = try await client.signIn(username: "amina", password: "pa/ss \"q\"", deviceId: device)
            #expect(client.token == "t-123")
            return (answer, try await client.me())
        }
        #expect(answer.token == "t-123" && answer.expiresAt == "2027-01-01T00:00:00.000Z")
        #expect(answer.user == UserInfo(id: "u1", username: "amina", role: "agent", accountId: "a1", projectIds: ["p1"], orgUnitIds: ["o1", "o2"]))
        #expect(me == answer.user)
        let signIn = try #require(stub.received.first)
        #expect(signIn.body == #"{"deviceId":"0d000000-0000-4000-8000-00000000000a","password":"pa/ss \"q\"","username":"amina"}"#)
        #expect(signIn.headers["content-type"] == "application/json")
        #expect(signIn.headers["accept"] == "application/json")
        #expect(signIn.headers["authorization"] == nil)
        #expect(stub.received.last?.headers["authorization"] == "Bearer t-123")
    }

    @Test func optionalMembersAreLeftOutAndQueriesAreEscaped() async throws {
        let stub = StubServer([
            "POST /v1/devices": [.json(#"{"deviceId":"d1","userId":"u1","since":"2026-11-20T07:02:11.500Z"}"#)],
            "GET /v1/sync/pull": [.json(#"{"changes":[],"cursor":"c2","hasMore":false}"#)],
            "POST /v1/users": [.json(#"{"id":"u2"}"#, status: .created)],
        ])
        let device = UUID()
        let account = UUID()
        let (registration, page) = try await stub.run(token: "t") { client in
            let r = try await client.registerDevice(deviceId: device)
            let p = try await client.pull(cursor: "a b&c=d", limit: 5)
            _ = try await client.createUser(username: "ana", password: "long-enough", role: "agent", accountId: account)
            return (r, p)
        }
        #expect(registration == DeviceRegistration(deviceId: "d1", userId: "u1", since: "2026-11-20T07:02:11.500Z"))
        #expect(page.cursor == "c2" && !page.hasMore && page.changes.isEmpty)
        let sent = stub.received
        #expect(sent[0].body == "{\"deviceId\":\"\(device.lowercasedText)\"}", "no model or appVersion when not given")
        #expect(sent[1].query == "cursor=a%20b%26c%3Dd&limit=5")
        #expect(sent[2].query == "accountId=\(account.lowercasedText)")
        #expect(sent[2].body == #"{"orgUnitIds":[],"password":"long-enough","projectIds":[],"role":"agent","username":"ana"}"#)
    }

    @Test func anErrorAnswerIsReadIntoItsCodeMessageAndField() async throws {
        let stub = StubServer([
            "POST /v1/projects": [.error(.unprocessableContent, code: "invalid_field", message: "appId must not be empty", field: "appId")],
            "GET /v1/projects": [.error(.unauthorized, code: "unauthorized", message: "the token expired")],
            "GET /v1/accounts": [StubServer.Reply(status: .badGateway, body: "<html>proxy</html>")],
        ])
        try await stub.run(token: "t") { client in
            do {
                _ = try await client.createProject(name: "Survey", appId: "")
                Issue.record("422 must throw")
            } catch let error as ClientError {
                #expect(error.status == 422 && error.code == "invalid_field")
                #expect(error.description == "invalid_field: appId must not be empty (appId)")
            }
            do {
                _ = try await client.listProjects()
                Issue.record("401 must throw")
            } catch let error as ClientError {
                #expect(error.description == "unauthorized: the token expired; sign in again (fieldsync login)")
            }
            do {
                _ = try await client.listAccounts()
                Issue.record("502 must throw")
            } catch let error as ClientError {
                #expect(error.status == 502 && error.code == nil)
                #expect(error.description == "the server answered 502 to GET /v1/accounts")
            }
        }
        #expect(stub.count("GET /v1/accounts") == 1, "a 502 is not retried")
    }

    @Test func anAnswerThatIsNotWhatTheProtocolSaysNamesWhatIsWrong() async throws {
        let stub = StubServer([
            "POST /v1/auth/token": [.json(#"{"expiresAt":"2027-01-01T00:00:00.000Z","user":\#(Self.user)}"#)],
            "GET /v1/users/me": [.json("not json")],
        ])
        try await stub.run { client in
            do {
                _ = try await client.signIn(username: "amina", password: "x")
                Issue.record("must throw")
            } catch let error as ClientError {
                guard case .invalidResponse(let path, let detail) = error else { Issue.record("\(error)"); return }
                #expect(path == "/v1/auth/token" && detail == "token is missing")
            }
            #expect(client.token == nil)
            do {
                _ = try await client.me()
                Issue.record("must throw")
            } catch let error as ClientError {
                guard case .invalidResponse(_, let detail) = error else { Issue.record("\(error)"); return }
                #expect(detail == "the body is not JSON")
            }
        }
    }

    @Test func unavailableAndRateLimitedAnswersAreRetriedUntilTheyPass() async throws {
        let ok = StubServer.Reply.json(#"{"items":[]}"#)
        let stub = StubServer([
            "GET /v1/projects": [
                .error(.serviceUnavailable, code: "unavailable", message: "db"), .error(.serviceUnavailable, code: "unavailable", message: "db"), ok,
            ],
            "GET /v1/users": [
                StubServer.Reply(
                    status: .tooManyRequests, headers: ["Retry-After": "0"], body: #"{"error":{"code":"rate_limited","message":"slow down"}}"#), ok,
            ],
            "GET /v1/devices": [.error(.serviceUnavailable, code: "unavailable", message: "db")],
        ])
        try await stub.run(token: "t", retry: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20))) { client in
            let projects = try await client.listProjects()
            let users = try await client.listUsers()
            #expect(projects.isEmpty && users.isEmpty)
            await #expect(throws: ClientError.self) { _ = try await client.listDevices() }
        }
        #expect(stub.count("GET /v1/projects") == 3)
        #expect(stub.count("GET /v1/users") == 2)
        #expect(stub.count("GET /v1/devices") == 4, "maxAttempts in all, then the last error")
    }

    @Test func aServerThatIsNotRunningIsReportedAfterAFewQuickTries() async throws {
        // A port nothing listens on: bind one, note it, close it.
        let stub = StubServer([:])
        let port = try await stub.run { client in client.baseURL }
        let started = ContinuousClock.now
        let client = try FieldSyncClient(baseURL: port, retry: RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(10)))
        do {
            _ = try await client.me()
            Issue.record("must throw")
        } catch let error as ClientError {
            #expect(error.isUnreachable)
            #expect(error.description == "cannot reach the server at \(port): is fieldsync-server running?")
        }
        try await client.shutdown()
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func aBaseURLThatIsNotHTTPIsRefused() {
        for bad in ["ftp://host", "127.0.0.1:8080", "", "http://"] {
            #expect(throws: ClientError.self) { _ = try FieldSyncClient(baseURL: bad) }
        }
    }
}

/// ``RetryPolicy``: bounds of the backoff.
struct RetryPolicyTests {
    @Test func delaysDoubleWithJitterUpToTheCapAndNeverUnderRetryAfter() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        for _ in 0..<200 {
            let first = policy.delay(beforeRetry: 1)
            #expect(first >= .milliseconds(50) && first <= .milliseconds(100))
            let third = policy.delay(beforeRetry: 3)
            #expect(third >= .milliseconds(200) && third <= .milliseconds(400))
            let late = policy.delay(beforeRetry: 30)
            #expect(late >= .milliseconds(500) && late <= .seconds(1))
            #expect(policy.delay(beforeRetry: 1, retryAfter: .seconds(3)) == .seconds(3))
        }
        #expect(RetryPolicy(maxAttempts: 0).maxAttempts == 1)
        #expect(RetryPolicy.none.maxAttempts == 1)
    }
}
