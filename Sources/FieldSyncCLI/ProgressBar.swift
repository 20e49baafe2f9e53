import Foundation
import Synchronization

/// Progress of a phase over many items: a redrawn bar on a terminal (standard
/// error), else one plain line when each phase ends.
final class ProgressBar: Sendable {
    private struct State {
        var phase = ""
        var lastDraw = ContinuousClock.now - .seconds(1)
        var started = ContinuousClock.now
    }
    private let state = Mutex(State())
    let enabled: Bool
    let tty: Bool

    init(enabled: Bool) {
        self.enabled = enabled
        tty = isatty(STDERR_FILENO) != 0
    }

    func update(_ phase: String, _ done: Int, _ total: Int) {
        guard enabled else { return }
        let line: String? = state.withLock { s in
            let now = ContinuousClock.now
            if s.phase != phase {
                s.phase = phase
                s.started = now
            }
            let finished = done >= total
            if tty {
                guard finished || now - s.lastDraw >= .milliseconds(100) else { return nil }
                s.lastDraw = now
                let width = 30
                let filled = total == 0 ? width : min(width, done * width / max(total, 1))
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                let pad = phase.padding(toLength: 14, withPad: " ", startingAt: 0)
                return "\r\(pad) [\(bar)] \(done)/\(total)\(finished ? " in \(Format.seconds((now - s.started).seconds)) s\n" : "")"
            }
            guard finished else { return nil }
            return "\(phase): \(done)/\(total) in \(Format.seconds((now - s.started).seconds)) s\n"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }
}
