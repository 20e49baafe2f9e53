/// Runs `body` for each of `0..<count` with at most `width` at once; errors are
/// collected per index instead of stopping the others.
func forEachConcurrently(
    _ count: Int, width: Int, _ body: @escaping @Sendable (Int) async throws -> Void
) async -> [Int: any Error] {
    await withTaskGroup(of: (Int, (any Error)?).self) { group in
        var failures: [Int: any Error] = [:]
        var next = 0
        func start() {
            guard next < count else { return }
            let i = next
            next += 1
            group.addTask {
                do {
                    try await body(i)
                    return (i, nil)
                } catch {
                    return (i, error)
                }
            }
        }
        for _ in 0..<max(1, width) { start() }
        while let (i, error) = await group.next() {
            if let error { failures[i] = error }
            start()
        }
        return failures
    }
}
