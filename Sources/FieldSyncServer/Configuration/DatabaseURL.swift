import Foundation
import NIOSSL
import PostgresNIO

/// `postgres://user:pass@host:port/db?sslmode=disable|prefer|require` as a PostgresNIO configuration.
enum DatabaseURL {
    static func configuration(from url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url),
            let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
        else {
            throw ConfigurationError("FIELDSYNC_DATABASE_URL must look like postgres://user:password@host:5432/database")
        }
        let user = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = components.password.flatMap { $0.removingPercentEncoding }
        let database = String(components.path.drop(while: { $0 == "/" })).removingPercentEncoding
        let mode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable":
            tls = .disable
        case "prefer", "allow":
            var t = TLSConfiguration.makeClientConfiguration()
            t.certificateVerification = .none
            tls = .prefer(t)
        case "require":
            var t = TLSConfiguration.makeClientConfiguration()
            t.certificateVerification = .none
            tls = .require(t)
        case "verify-ca", "verify-full":
            tls = .require(TLSConfiguration.makeClientConfiguration())
        default:
            throw ConfigurationError("sslmode in FIELDSYNC_DATABASE_URL must be disable, prefer or require, got \"\(mode)\"")
        }
        if let host = components.host, !host.isEmpty {
            return PostgresClient.Configuration(
                host: host, port: components.port ?? 5432, username: user, password: password,
                database: database?.isEmpty == false ? database : nil, tls: tls)
        }
        // postgres:///db?host=/socket/dir: a unix socket, as libpq writes it.
        if let socketDir = components.queryItems?.first(where: { $0.name == "host" })?.value, socketDir.hasPrefix("/") {
            let port = components.port ?? 5432
            return PostgresClient.Configuration(
                unixSocketPath: "\(socketDir)/.s.PGSQL.\(port)", username: user, password: password,
                database: database?.isEmpty == false ? database : nil)
        }
        throw ConfigurationError("FIELDSYNC_DATABASE_URL has no host")
    }
}
