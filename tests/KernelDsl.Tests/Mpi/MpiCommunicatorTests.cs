using System;
using System.Runtime.CompilerServices;
using KernelDsl.Ring;
using Xunit;

namespace KernelDsl.Tests.Mpi;

/// <summary>
/// What can be checked of the MPI binding inside the test process, where MPI is never initialised (MPI can be
/// initialised once per process and must then be finalized by every rank): the library, the layouts and the
/// options. The ring itself is tested under mpirun in <see cref="MpiRingTests"/>.
/// </summary>
public sealed class MpiCommunicatorTests
{
    [Fact]
    public void OpenMpiLoadsAndBindsEveryEntryPoint()
    {
        MpiNative.EnsureLoaded(); // throws MpiUnavailableException saying what to install
        Assert.True(MpiCommunicator.IsAvailable);
        Assert.NotEqual(IntPtr.Zero, MpiNative.CommWorld);
        Assert.NotEqual(IntPtr.Zero, MpiNative.Byte);
    }

    [Fact]
    public void StatusHasOpenMpisLayout()
    {
        // sizeof(MPI_Status) printed by mpicc for Open MPI 4.1 on x86-64; MPI_ERROR at offset 8.
        Assert.Equal(24, Unsafe.SizeOf<MpiStatus>());
    }

    [Fact]
    public void ErrorsNameTheFunctionAndCode()
    {
        // Outside MPI's lifetime Open MPI's own text cannot be asked for (MPI_Error_string would abort the
        // process), so the message falls back to the code; under mpirun it carries Open MPI's words.
        MpiNative.EnsureLoaded();
        var error = Assert.Throws<MpiException>(() => MpiNative.Check(MpiNative.ErrorTruncate, "MPI_Testall"));
        Assert.Equal("MPI_Testall", error.Function);
        Assert.Equal(MpiNative.ErrorTruncate, error.ErrorCode);
        Assert.Equal("MPI_Testall failed: MPI error 15 (MPI error 15).", error.Message);
    }

    [Fact]
    public void RejectsOptionsOutOfRangeBeforeTouchingMpi()
    {
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => MpiCommunicator.Initialize(new MpiCommunicatorOptions { Timeout = TimeSpan.Zero })).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentException>(
            () => MpiCommunicator.Initialize(new MpiCommunicatorOptions { ProgressInterval = TimeSpan.FromMilliseconds(-1) })).ParamName);
    }
}
