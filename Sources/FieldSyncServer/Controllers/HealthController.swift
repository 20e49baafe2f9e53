import Hummingbird
import NIOCore
import Prometheus

/// `/healthz` (the process answers), `/readyz` (database reachable and migrated),
/// `/metrics` (Prometheus text format).
struct HealthController {
    let database: Database
    let migrator: Migrator
    let registry: PrometheusCollectorRegistry

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("healthz") { _, _ in
            JSONBody.response(.object(["status": .string("ok")]))
        }
        router.get("readyz") { _, _ -> Response in
            let reachable = await database.ping(timeout: .seconds(2))
            let migrated = reachable ? ((try? await migrator.isUpToDate()) ?? false) : false
            if reachable && migrated {
                return JSONBody.response(.object(["status": .string("ready")]))
            }
            return APIError.unavailable(reachable ? "the database schema is not migrated yet" : "the database is unreachable").makeResponse()
        }
        router.get("metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}
