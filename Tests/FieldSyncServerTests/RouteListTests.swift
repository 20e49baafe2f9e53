import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import Testing

@testable import FieldSyncServer

/// The routes the server answers are the operations `Schemas/openapi.yaml` documents, and the
/// scope matrix (``ScopeMatrixTests``) sends a request to every one of them (issue 13).
///
/// Paths are compared as templates: a `{name}` of the contract and a `:name` of the router are
/// both a capture, whatever the name.
@Suite("Route list: router, openapi.yaml, scope matrix")
struct RouteListTests {
    /// One operation: a method and a path template with its captures written `{}`.
    struct Route: Hashable, Comparable, CustomStringConvertible {
        let method: String
        let path: String
        var description: String { "\(method) \(path)" }
        static func < (a: Route, b: Route) -> Bool { (a.path, a.method) < (b.path, b.method) }

        init(method: String, template: String) {
            self.method = method.uppercased()
            self.path =
                "/"
                + template.split(separator: "/").map { $0.hasPrefix("{") || $0.hasPrefix(":") ? "{}" : String($0) }
                .joined(separator: "/")
        }

        var segments: [Substring] { path.split(separator: "/") }
    }

    static let openAPIFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Schemas/openapi.yaml")

    /// The operations of an OpenAPI document's `paths`, with whether each is open (`security: []`).
    ///
    /// A reader for the block layout the file uses (two spaces per level): a path item is a key at
    /// level 1 under `paths:`, an operation a method key at level 2 under it, `security` a key at
    /// level 3 under that. Anything else under `paths:` that is not at a deeper level fails, so a
    /// layout this reader does not know is an error rather than a silently shorter list.
    static func operations(inOpenAPI text: String) throws -> [(route: Route, open: Bool)] {
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        var result: [(route: Route, open: Bool)] = []
        var inPaths = false
        var path: String?
        var sawPaths = false
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let content = line.drop { $0 == " " }
            if content.isEmpty || content.hasPrefix("#") { continue }
            let indent = line.count - content.count
            if indent == 0 {
                inPaths = content.hasPrefix("paths:")
                sawPaths = sawPaths || inPaths
                path = nil
                continue
            }
            guard inPaths else { continue }
            guard let colon = content.firstIndex(of: ":") else {
                if indent <= 4 { throw TestSetupError("openapi.yaml line \(number + 1): expected a key, got \(content)") }
                continue
            }
            let key = content[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            let value = content[content.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch indent {
            case 2:
                guard key.hasPrefix("/") else { throw TestSetupError("openapi.yaml line \(number + 1): a path must start with /, got \(key)") }
                path = key
            case 4:
                guard let path else { throw TestSetupError("openapi.yaml line \(number + 1): \(key) outside a path") }
                if methods.contains(key) { result.append((Route(method: key, template: path), false)) }
            case 6:
                if key == "security", value == "[]", let last = result.indices.last { result[last].open = true }
            default:
                guard indent > 6 else { throw TestSetupError("openapi.yaml line \(number + 1): indentation \(indent) is not two spaces per level") }
            }
        }
        guard sawPaths else { throw TestSetupError("openapi.yaml has no paths") }
        return result
    }

    /// The routes `buildRouter` registers. Building a router opens no connection: the pool is never run.
    static func routerRoutes() -> [Route] {
        var logger = Logger(label: "route-list")
        logger.logLevel = .critical
        let config = ServerConfiguration()
        let client = PostgresClient(
            configuration: .init(host: "127.0.0.1", port: 9, username: "nobody", password: nil, database: "none", tls: .disable),
            backgroundLogger: logger)
        let database = Database(client: client, timeout: .seconds(1), logger: logger)
        let router = buildRouter(database: database, migrator: Migrator(database: database, logger: logger), config: config)
        return router.routes.map { Route(method: $0.method.rawValue, template: $0.path.description) }
    }

    /// The route a request path is served by: same method, every constant segment equal, and
    /// (like the router) a constant segment preferred to a capture at the first place they differ.
    static func route(serving method: String, _ uri: String, among routes: [Route]) -> Route? {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        let parts = path.split(separator: "/")
        let candidates = routes.filter { route in
            route.method == method.uppercased() && route.segments.count == parts.count
                && zip(route.segments, parts).allSatisfy { $0 == "{}" || $0 == $1 }
        }
        return candidates.max { a, b in
            // a < b when b has a constant where a has a capture, at the first difference.
            guard let (sa, sb) = zip(a.segments, b.segments).first(where: { ($0 == "{}") != ($1 == "{}") }) else { return false }
            return sa == "{}" && sb != "{}"
        }
    }

    @Test("the router's routes are exactly the operations of openapi.yaml")
    func routerMatchesOpenAPI() throws {
        let documented = try Self.operations(inOpenAPI: String(contentsOf: Self.openAPIFile, encoding: .utf8)).map(\.route)
        #expect(documented.count > 20, "the reader found only \(documented.count) operations in openapi.yaml")
        #expect(Set(documented).count == documented.count, "an operation is listed twice: \(documented.sorted())")
        let routed = Self.routerRoutes()
        #expect(Set(routed).count == routed.count, "a route is registered twice: \(routed.sorted())")
        let missingFromRouter = Set(documented).subtracting(routed).sorted()
        let missingFromOpenAPI = Set(routed).subtracting(documented).sorted()
        #expect(missingFromRouter.isEmpty, "documented in openapi.yaml but not routed: \(missingFromRouter)")
        #expect(missingFromOpenAPI.isEmpty, "routed but not documented in openapi.yaml: \(missingFromOpenAPI)")
    }

    @Test("the reader of openapi.yaml sees operations, captures and open routes, and refuses a layout it does not know")
    func openAPIReader() throws {
        let text = """
            openapi: 3.1.0
            paths:
              /healthz:
                get:
                  security: []
                  responses:
                    "200":
                      description: alive
              "/v1/things/{id}":
                parameters:
                  - name: id
                get:
                  summary: a thing
                delete:
                  description: "get: not an operation"
            components:
              schemas:
                get:
                  type: object
            """
        let ops = try Self.operations(inOpenAPI: text)
        #expect(ops.map(\.route.description) == ["GET /healthz", "GET /v1/things/{}", "DELETE /v1/things/{}"])
        #expect(ops.map(\.open) == [true, false, false])
        #expect(throws: TestSetupError.self) { try Self.operations(inOpenAPI: "paths:\n   /odd:\n    get: {}\n") }
        #expect(throws: TestSetupError.self) { try Self.operations(inOpenAPI: "info:\n  title: x\n") }
    }

    @Test("the scope matrix sends a request to every route, and the no-token rows reach every secured one")
    func matrixCoversEveryRoute() async throws {
        let routes = Self.routerRoutes()
        let open = Set(try Self.operations(inOpenAPI: String(contentsOf: Self.openAPIFile, encoding: .utf8)).filter(\.open).map(\.route))
        let url = try await TestDatabase.migrated()
        try await withTestApp(databaseURL: url) { api in
            let w = try await ScopeWorld.make(api, databaseURL: url)
            // Change ids only fill the review path here: the rows are listed, not sent.
            let p = ScopeMatrixTests.Proposals(
                inside: UUID().lowercased, outside: UUID().lowercased, other: UUID().lowercased,
                insideName: "in", outsideName: "out")
            let rows = ScopeMatrixTests.allRows(w, p)
            var covered: Set<Route> = []
            var anonymous: Set<Route> = []
            for row in rows {
                guard let route = Self.route(serving: row.method.rawValue, row.path, among: routes) else {
                    Issue.record("matrix row \(row.method) \(row.path) reaches no route")
                    continue
                }
                covered.insert(route)
                if row.who == .anon { anonymous.insert(route) }
            }
            let uncovered = Set(routes).subtracting(covered).sorted()
            #expect(uncovered.isEmpty, "routes without a row in the scope matrix: \(uncovered)")
            let securedWithout401 = Set(routes).subtracting(open).subtracting(anonymous).sorted()
            #expect(securedWithout401.isEmpty, "secured routes without a no-token row: \(securedWithout401)")
        }
    }

    @Test("a request path finds its route as the router does: a constant beats a capture")
    func routeMatching() {
        let routes = [
            Route(method: "GET", template: "/v1/users/me"), Route(method: "GET", template: "/v1/users/:id"),
            Route(method: "PATCH", template: "/v1/users/{id}"),
        ]
        #expect(Self.route(serving: "GET", "/v1/users/me", among: routes)?.path == "/v1/users/me")
        #expect(Self.route(serving: "GET", "/v1/users/abc?x=1", among: routes)?.path == "/v1/users/{}")
        #expect(Self.route(serving: "PATCH", "/v1/users/me", among: routes)?.path == "/v1/users/{}")
        #expect(Self.route(serving: "POST", "/v1/users/me", among: routes) == nil)
        #expect(Self.route(serving: "GET", "/v1/users", among: routes) == nil)
    }
}
