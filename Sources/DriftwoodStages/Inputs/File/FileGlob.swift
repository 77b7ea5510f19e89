#if canImport(Glibc)
import Glibc
#endif

/// Expands `paths` globs into files: `*`, `?` and `[..]` within one path component (as the
/// shell, with fnmatch(3); names starting with a dot only match a pattern that starts with one),
/// and `**` for any number of directories, zero included. A symbolic link to a file is skipped
/// unless `followSymlinks` (then the file it points to is found, under the link's path);
/// `**` does not descend into linked directories (no cycles).
public struct FileGlob: Sendable {
    /// The patterns, made absolute.
    public let patterns: [String]
    /// Exclusions: with a `/`, matched against the whole path; without, against the file's name.
    public let exclude: [String]
    /// Symbolic links to files are read through (else skipped).
    public let followSymlinks: Bool

    /// - Parameter directory: what relative patterns resolve against (the working directory).
    public init(paths: [String], exclude: [String], directory: String, followSymlinks: Bool = true) {
        patterns = paths.map { Self.absolute($0, in: directory) }
        self.exclude = exclude.map { $0.contains("/") ? Self.absolute($0, in: directory) : $0 }
        self.followSymlinks = followSymlinks
    }

    /// A regular file found by a scan.
    public struct Found: Sendable {
        public let path: String
        public let device: UInt64
        public let inode: UInt64
        public let size: UInt64
    }

    /// Every regular file the patterns match now and no exclusion matches, once each: in path
    /// order, and a file reached by several paths (links) once, under the first of them.
    public func scan() -> [Found] { scanChecked().found }

    /// What a scan found.
    public struct Scan: Sendable {
        public var found: [Found]
        /// Every directory could be listed: a scan cut short by a lack of descriptors or memory
        /// must not be taken to mean that files are gone.
        public var complete: Bool
        /// Matched paths that are symbolic links, skipped (without `followSymlinks`).
        public var skippedLinks: [String]
    }

    public func scanChecked() -> Scan {
        var found: [Found] = []
        var seen = Set<String>()
        var links: [String] = []
        var complete = true
        for pattern in patterns {
            let parts = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
                .filter { $0 != "." }
            walk("", parts[...], &complete) { path in
                guard seen.insert(path).inserted, !isExcluded(path) else { return }
                var st = stat()
                guard lstat(path, &st) == 0 else { return }
                if (st.st_mode & S_IFMT) == S_IFLNK {
                    guard followSymlinks else {
                        links.append(path)
                        return
                    }
                    guard stat(path, &st) == 0 else { return }
                }
                guard (st.st_mode & S_IFMT) == S_IFREG else { return }
                found.append(Found(path: path, device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: UInt64(st.st_size)))
            }
        }
        found.sort { $0.path < $1.path }
        var files = Set<[UInt64]>()
        found.removeAll { !files.insert([$0.device, $0.inode]).inserted }
        return Scan(found: found, complete: complete, skippedLinks: links)
    }

    /// True when an `exclude` pattern matches the path.
    public func isExcluded(_ path: String) -> Bool {
        guard !exclude.isEmpty else { return false }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        for pattern in exclude {
            if pattern.contains("/") {
                if fnmatch(pattern, path, 0) == 0 { return true }
            } else if fnmatch(pattern, name, FNM_PERIOD) == 0 {
                return true
            }
        }
        return false
    }

    private func walk(_ base: String, _ parts: ArraySlice<String>, _ complete: inout Bool, _ found: (String) -> Void) {
        guard let part = parts.first else {
            found(base.isEmpty ? "/" : base)
            return
        }
        let rest = parts.dropFirst()
        if part == "**" {
            walk(base, rest, &complete, found)  // zero directories
            for name in entries(of: base, &complete) where !name.hasPrefix(".") {
                let child = base + "/" + name
                if isDirectory(child, followLinks: false) { walk(child, parts, &complete, found) }
            }
            return
        }
        if !Self.hasMagic(part) {
            let child = base + "/" + part
            if rest.isEmpty || isDirectory(child, followLinks: true) { walk(child, rest, &complete, found) }
            return
        }
        for name in entries(of: base, &complete) where fnmatch(part, name, FNM_PERIOD) == 0 {
            let child = base + "/" + name
            if rest.isEmpty || isDirectory(child, followLinks: true) { walk(child, rest, &complete, found) }
        }
    }

    private func entries(of directory: String, _ complete: inout Bool) -> [String] {
        guard let dir = opendir(directory.isEmpty ? "/" : directory) else {
            // Missing, not a directory, or not ours to read: the same on every scan. Anything
            // else (no descriptors, no memory) leaves this scan incomplete.
            if ![ENOENT, ENOTDIR, EACCES].contains(errno) { complete = false }
            return []
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    private func isDirectory(_ path: String, followLinks: Bool) -> Bool {
        var st = stat()
        let r = followLinks ? stat(path, &st) : lstat(path, &st)
        return r == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func hasMagic(_ part: String) -> Bool {
        part.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    static func absolute(_ path: String, in directory: String) -> String {
        if path.hasPrefix("/") { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }
}
