using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace KernelDsl.Cuda;

/// <summary>
/// Raw CUDA driver API entry points (<c>cuda.h</c>), bound with <c>[LibraryImport]</c> to
/// <c>libcuda</c>. Versioned symbols (<c>_v2</c>) are bound by their real export names, which
/// is what <c>cuda.h</c>'s macros expand to. Every call returns a <see cref="CudaResult"/>;
/// <see cref="Check"/> turns failures into <see cref="CudaException"/>.
/// </summary>
internal static unsafe partial class CudaDriver
{
    /// <summary>Logical name resolved to a real soname by <see cref="CudaLibraryResolver"/>.</summary>
    internal const string LibraryName = "cuda";

    /// <summary>The subset of <c>CUdevice_attribute</c> this runtime reads.</summary>
    internal enum DeviceAttribute
    {
        MaxThreadsPerBlock = 1,
        MaxSharedMemoryPerBlock = 8,
        MultiprocessorCount = 16,
        ComputeCapabilityMajor = 75,
        ComputeCapabilityMinor = 76,
        MaxSharedMemoryPerBlockOptin = 97,
    }

    /// <summary>The subset of <c>CUfunction_attribute</c> this runtime reads or sets.</summary>
    internal enum FunctionAttribute
    {
        MaxThreadsPerBlock = 0,
        SharedSizeBytes = 1,
        LocalSizeBytes = 3,
        NumRegs = 4,
        MaxDynamicSharedSizeBytes = 8,
    }

    // Names and cuGetErrorString's wording for common codes, so an error reads the same when
    // the driver cannot describe it (not loaded, or too old to know the code).
    private static readonly Dictionary<CudaResult, (string Name, string Description)> KnownErrors = new()
    {
        [CudaResult.Success] = ("CUDA_SUCCESS", "no error"),
        [CudaResult.InvalidValue] = ("CUDA_ERROR_INVALID_VALUE", "invalid argument"),
        [CudaResult.OutOfMemory] = ("CUDA_ERROR_OUT_OF_MEMORY", "out of memory"),
        [CudaResult.NotInitialized] = ("CUDA_ERROR_NOT_INITIALIZED", "initialization error"),
        [CudaResult.Deinitialized] = ("CUDA_ERROR_DEINITIALIZED", "driver shutting down"),
        [CudaResult.StubLibrary] = ("CUDA_ERROR_STUB_LIBRARY", "CUDA driver is a stub library"),
        [CudaResult.DeviceUnavailable] = ("CUDA_ERROR_DEVICE_UNAVAILABLE", "CUDA-capable device(s) is/are busy or unavailable"),
        [CudaResult.NoDevice] = ("CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"),
        [CudaResult.InvalidDevice] = ("CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"),
        [CudaResult.InvalidImage] = ("CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"),
        [CudaResult.InvalidContext] = ("CUDA_ERROR_INVALID_CONTEXT", "invalid device context"),
        [CudaResult.NoBinaryForGpu] = ("CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"),
        [CudaResult.InvalidPtx] = ("CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"),
        [CudaResult.UnsupportedPtxVersion] = ("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the provided PTX was compiled with an unsupported toolchain."),
        [CudaResult.InvalidHandle] = ("CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"),
        [CudaResult.NotFound] = ("CUDA_ERROR_NOT_FOUND", "named symbol not found"),
        [CudaResult.NotReady] = ("CUDA_ERROR_NOT_READY", "device not ready"),
        [CudaResult.IllegalAddress] = ("CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"),
        [CudaResult.LaunchOutOfResources] = ("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"),
        [CudaResult.LaunchTimeout] = ("CUDA_ERROR_LAUNCH_TIMEOUT", "the launch timed out and was terminated"),
        [CudaResult.LaunchFailed] = ("CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"),
        [CudaResult.NotSupported] = ("CUDA_ERROR_NOT_SUPPORTED", "operation not supported"),
        [CudaResult.Unknown] = ("CUDA_ERROR_UNKNOWN", "unknown error"),
    };

    // An explicit static constructor runs before any of the P/Invokes below, so the resolver
    // is in place even for a caller that skipped TryLoad.
    static CudaDriver() => CudaLibraryResolver.Install();

    /// <summary>The sonames probed for the driver, in order.</summary>
    internal static IReadOnlyList<string> Candidates => CudaLibraryResolver.CandidatesFor(LibraryName);

    /// <summary>Loads <c>libcuda</c> if it is installed; never throws.</summary>
    internal static bool TryLoad() => CudaLibraryResolver.TryLoad(LibraryName, out _);

    /// <summary>Throws <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="result"/> is success.</summary>
    internal static void Check(CudaResult result, string call)
    {
        if (result != CudaResult.Success)
        {
            (string name, string description) = Describe(result);
            throw new CudaException(call, (int)result, name, description);
        }
    }

    /// <summary>
    /// The name and description of <paramref name="result"/>: the driver's own when it is
    /// loaded and knows the code, else <see cref="DescribeWithoutDriver"/>.
    /// </summary>
    internal static (string Name, string Description) Describe(CudaResult result)
    {
        // Only an error path gets here, so probing the library again when it is absent costs nothing.
        if (TryLoad()
            && cuGetErrorName(result, out IntPtr name) == CudaResult.Success && name != IntPtr.Zero
            && cuGetErrorString(result, out IntPtr description) == CudaResult.Success && description != IntPtr.Zero)
        {
            // Static strings owned by the driver: copy them, never free them.
            return (Marshal.PtrToStringUTF8(name)!, Marshal.PtrToStringUTF8(description)!);
        }

        return DescribeWithoutDriver(result);
    }

    /// <summary>The built-in name and description of <paramref name="result"/>; unknown codes are shown by number.</summary>
    internal static (string Name, string Description) DescribeWithoutDriver(CudaResult result) =>
        KnownErrors.TryGetValue(result, out (string Name, string Description) known)
            ? known
            : ($"CUresult {(int)result}", "an error code this runtime does not know; see cuda.h");

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuGetErrorName(CudaResult error, out IntPtr name);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuGetErrorString(CudaResult error, out IntPtr description);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuInit(uint flags);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuDriverGetVersion(out int version);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuDeviceGetCount(out int count);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuDeviceGet(out int device, int ordinal);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuDeviceGetAttribute(out int value, DeviceAttribute attribute, int device);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuDeviceTotalMem_v2(out nuint bytes, int device);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuDevicePrimaryCtxRetain(out IntPtr context, int device);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuDevicePrimaryCtxRelease_v2(int device);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuCtxSetCurrent(IntPtr context);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuCtxSynchronize();

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuModuleLoadData(out IntPtr module, byte* image);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuModuleUnload(IntPtr module);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial CudaResult cuModuleGetFunction(out IntPtr function, IntPtr module, string name);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuFuncGetAttribute(out int value, FunctionAttribute attribute, IntPtr function);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuFuncSetAttribute(IntPtr function, FunctionAttribute attribute, int value);

    /// <summary>The <c>CUtensorMapDataType</c> values of the elements kernels use (cuda.h: UINT8 = 0 … FLOAT16 = 6, FLOAT32, FLOAT64, BFLOAT16).</summary>
    internal enum TensorMapDataType
    {
        Float16 = 6,
        Float32 = 7,
        BFloat16 = 9,
    }

    // A tiled TMA map (CUDA 12.0+ drivers). globalStrides has rank - 1 entries, in bytes; interleave, L2 promotion and
    // the out-of-bounds fill are passed as 0: none, none, zeros. swizzle: CU_TENSOR_MAP_SWIZZLE_NONE/32B/64B/128B = 0..3.
    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuTensorMapEncodeTiled(
        TensorMap.Words* tensorMap, TensorMapDataType dataType, uint rank, ulong globalAddress, ulong* globalDim,
        ulong* globalStrides, uint* boxDim, uint* elementStrides, int interleave, int swizzle, int l2Promotion, int oobFill);

    // kernelParams is a void** with one pointer per kernel parameter; extra stays null.
    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuLaunchKernel(
        IntPtr function,
        uint gridX, uint gridY, uint gridZ,
        uint blockX, uint blockY, uint blockZ,
        uint sharedBytes, IntPtr stream, IntPtr* kernelParams, IntPtr* extra);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuStreamCreate(out IntPtr stream, uint flags);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuStreamDestroy_v2(IntPtr stream);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuStreamSynchronize(IntPtr stream);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuEventCreate(out IntPtr cudaEvent, uint flags);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuEventRecord(IntPtr cudaEvent, IntPtr stream);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuEventSynchronize(IntPtr cudaEvent);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuEventElapsedTime(out float milliseconds, IntPtr start, IntPtr end);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuEventDestroy_v2(IntPtr cudaEvent);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuEventQuery(IntPtr cudaEvent);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuStreamWaitEvent(IntPtr stream, IntPtr cudaEvent, uint flags);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuMemAlloc_v2(out ulong pointer, nuint bytes);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuMemFree_v2(ulong pointer);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuMemcpyHtoD_v2(ulong destination, void* source, nuint bytes);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuMemcpyDtoH_v2(void* destination, ulong source, nuint bytes);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, IntPtr stream);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, IntPtr stream);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuMemsetD8_v2(ulong destination, byte value, nuint count);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuMemsetD16_v2(ulong destination, ushort value, nuint count);

    [LibraryImport(LibraryName)]
    internal static partial CudaResult cuMemsetD32_v2(ulong destination, uint value, nuint count);
}
