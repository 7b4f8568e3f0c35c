using KernelDsl.Cuda;
using Xunit;

namespace KernelDsl.Tests.Cuda;

public sealed class CudaDriverTests
{
    [Theory]
    [InlineData(2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory")]
    [InlineData(100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected")]
    [InlineData(209, "CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device")]
    [InlineData(700, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered")]
    [InlineData(701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch")]
    public void Built_in_table_names_common_results_like_the_driver(int code, string name, string description)
    {
        Assert.Equal((name, description), CudaDriver.DescribeWithoutDriver((CudaResult)code));
    }

    [Fact]
    public void Unknown_result_is_shown_by_number()
    {
        (string name, string description) = CudaDriver.DescribeWithoutDriver((CudaResult)12345);

        Assert.Equal("CUresult 12345", name);
        Assert.Contains("cuda.h", description);
    }

    [Theory]
    [InlineData(1, "CUDA_ERROR_INVALID_VALUE")]
    [InlineData(500, "CUDA_ERROR_NOT_FOUND")]
    [InlineData(719, "CUDA_ERROR_LAUNCH_FAILED")]
    public void Check_throws_a_CudaException_naming_the_call_and_the_error(int code, string name)
    {
        // Holds with and without a driver: the driver's names are the table's.
        CudaException error = Assert.Throws<CudaException>(() => CudaDriver.Check((CudaResult)code, "cuLaunchKernel"));

        Assert.Equal("cuLaunchKernel", error.Call);
        Assert.Equal(code, error.Code);
        Assert.Equal(name, error.ErrorName);
        Assert.StartsWith($"cuLaunchKernel failed: {name} (", error.Message);
        Assert.EndsWith(")", error.Message);
    }

    [Fact]
    public void Check_passes_success()
    {
        CudaDriver.Check(CudaResult.Success, "cuInit");
    }

    [Fact]
    public void Driver_sonames_are_probed_in_order()
    {
        Assert.Equal(["libcuda.so.1", "libcuda.so"], CudaDriver.Candidates);
    }
}
