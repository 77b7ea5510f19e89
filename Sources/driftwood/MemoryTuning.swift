#if canImport(Glibc)
import Glibc
#endif

/// glibc's allocator settings for `run`.
enum MemoryTuning {
    /// Batches allocate and free buffers of a few hundred KiB to a few MiB, many times a second,
    /// on different threads. By default glibc serves those from fresh mappings and hands freed
    /// memory straight back to the kernel, so every batch faults its pages in again (~50k page
    /// faults per million events). Serving them from the heap, and trimming it only past
    /// 64 MiB free, keeps the pages; peak memory stays bounded by the queues.
    static func keepFreedBuffers() {
        #if canImport(Glibc)
        // mallopt is in <malloc.h>, which the Glibc module does not bring in.
        typealias MalloptFunction = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MalloptFunction.self)
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3  // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, 32 << 20)
        _ = mallopt(trimThreshold, 64 << 20)
        #endif
    }
}
