namespace KernelDsl.Cuda;

/// <summary>A compiled kernel as the cache keeps it.</summary>
/// <param name="Key">The cache key: SHA-256 hex of everything that determines the image.</param>
/// <param name="Target">What it was compiled for; PTX when NVRTC cannot build a CUBIN for the requested architecture.</param>
/// <param name="Image">The CUBIN, or PTX text without its NUL.</param>
internal sealed record KernelImage(string Key, CudaTarget Target, byte[] Image);
