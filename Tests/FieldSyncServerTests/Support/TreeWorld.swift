import FieldSyncCore
import Foundation
import HTTPTypes
import Testing

/// An account with a tree country > A > A1, country > B, a unit type, an agent and a
/// supervisor on A, a supervisor on B (each with a device), and the Fixture's admin.
struct TreeWorld: Sendable {
    let f: Fixture
    let country: UUID, a: UUID, a1: UUID, b: UUID
    let type: UUID
    let agent: Fixture.Member, agent2: Fixture.Member, supervisorA: Fixture.Member, supervisorB: Fixture.Member

    static func square(_ x: Double, _ y: Double = 0, size: Double = 1) -> JSONValue {
        .object([
            "type": .string("Polygon"),
            "coordinates": .array([
                .array([
                    .array([.number(x), .number(y)]), .array([.number(x + size), .number(y)]), .array([.number(x + size), .number(y + size)]),
                    .array([.number(x), .number(y + size)]), .array([.number(x), .number(y)]),
                ])
            ]),
        ])
    }

    static func make(_ api: API) async throws -> TreeWorld {
        let f = try await Fixture.make(api)
        let q = "?accountId=\(f.account.lowercased)"
        let type = UUID()
        var r = try await api.call(
            .post, "/v1/orgunit-types" + q, token: f.rootToken,
            json: .object([
                "id": .string(type.lowercased), "name": .string("Area"), "depth": .number(1),
            ]))
        guard r.status == .created else { throw TestSetupError("type: \(r.text)") }
        let country = UUID(), a = UUID(), a1 = UUID(), b = UUID()
        r = try await api.call(
            .post, "/v1/orgunits/import" + q, token: f.rootToken,
            json: .array([
                .object(["id": .string(a1.lowercased), "name": .string("A1"), "parentId": .string(a.lowercased), "geometry": square(0, 0, size: 0.5)]
                ),
                .object(["id": .string(country.lowercased), "name": .string("Country"), "parentId": .null]),
                .object([
                    "id": .string(a.lowercased), "name": .string("A"), "parentId": .string(country.lowercased), "geometry": square(0),
                    "orgUnitTypeId": .string(type.lowercased),
                ]),
                .object(["id": .string(b.lowercased), "name": .string("B"), "parentId": .string(country.lowercased), "geometry": square(5)]),
            ]))
        guard r.status == .created else { throw TestSetupError("import: \(r.text)") }
        let suffix = UUID().uuidString.prefix(8).lowercased()
        func member(_ role: String, _ name: String, units: [UUID]) async throws -> Fixture.Member {
            let username = "\(name)-\(suffix)"
            let r = try await api.call(
                .post, "/v1/users" + q, token: f.rootToken,
                json: .object([
                    "username": .string(username), "password": .string("password-\(name)"), "role": .string(role),
                    "projectIds": .array([.string(f.project.lowercased)]), "orgUnitIds": .array(units.map { .string($0.lowercased) }),
                ]))
            guard r.status == .created, let id = r.json["id"]?.stringValue.flatMap(UUID.init(uuidString:)) else {
                throw TestSetupError("user: \(r.text)")
            }
            let token = try await api.signIn(username, "password-\(name)")
            let device = UUID()
            let d = try await api.call(.post, "/v1/devices", token: token, json: .object(["deviceId": .string(device.lowercased)]))
            guard d.status == .ok else { throw TestSetupError("device: \(d.text)") }
            return Fixture.Member(userId: id, token: token, device: device)
        }
        return TreeWorld(
            f: f, country: country, a: a, a1: a1, b: b, type: type,
            agent: try await member("agent", "agent-a", units: [a]),
            agent2: try await member("agent", "agent-a2", units: [a]),
            supervisorA: try await member("supervisor", "sup-a", units: [a]),
            supervisorB: try await member("supervisor", "sup-b", units: [b]))
    }

    /// An `orgUnit` push item.
    func unitItem(
        _ id: UUID, by m: Fixture.Member, counter: Int64 = 1, base: [String: Int64] = [:], at ms: Int64 = 1_763_626_530_000,
        _ changes: [String: JSONValue]
    ) -> JSONValue {
        .object([
            "kind": .string("orgUnit"), "id": .string(id.lowercased), "replica": .string(m.device.lowercased),
            "counter": .number(Double(counter)), "base": .object(base.mapValues { .number(Double($0)) }),
            "editedAt": .string(Timestamp(millisecondsSinceEpoch: ms).description), "changes": .object(changes),
        ])
    }

    func push(_ api: API, _ m: Fixture.Member, _ items: [JSONValue], batch: UUID = UUID()) async throws -> [JSONValue] {
        let r = try await api.call(.post, "/v1/sync/push", token: m.token, json: pushBody(batch: batch, device: m.device, items: items))
        #expect(r.status == .ok, "\(r.text)")
        return r.json["results"]?.arrayValue ?? []
    }

    /// The tree as the caller sees it (JSON format), by id.
    func tree(_ api: API, _ token: String, _ query: String = "") async throws -> (units: [JSONValue], cursor: String) {
        let r = try await api.call(.get, "/v1/orgunits/tree" + query, token: token)
        #expect(r.status == .ok, "\(r.text.prefix(300))")
        return (r.json["orgUnits"]?.arrayValue ?? [], r.json["cursor"]?.stringValue ?? "")
    }

    /// The version of a unit as the admin's tree shows it.
    func version(_ api: API, _ id: UUID) async throws -> [String: Int64] {
        let units = try await tree(api, f.admin.token, "?geometry=none").units
        let v = units.first { $0["id"] == .string(id.lowercased) }?["version"]?.objectValue ?? [:]
        return v.compactMapValues { $0.numberValue.map { Int64($0) } }
    }
}
