using System;
using System.Reflection;
using KernelDsl.Cuda;
using KernelDsl.Tests.Cuda;
using Xunit;
using Xunit.Abstractions;

namespace KernelDsl.Tests.Emulation;

/// <summary>
/// Every ring-attention kernel the repository declares, its generated CUDA C run on the emulator: a ring of 1–4 ranks
/// played through <c>LaunchStep</c> and <c>LaunchFinalize</c> in the kernel's own layout (the declared kernels cover
/// all three, causal and not), against float64 attention (<see cref="DeviceAttentionRing"/>).
/// </summary>
public sealed class EmulatedAttentionTests(ITestOutputHelper output)
{
    public static TheoryData<string> Kernels() => DeclaredKernels.Names<AttentionInfo>();

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Ring_matches_the_float64_reference(string kernel)
    {
        Type type = DeclaredKernels.Named(kernel);
        var info = (AttentionInfo)DeclaredKernels.Info(type)!;
        MethodInfo play = typeof(EmulatedAttentionTests).GetMethod(nameof(Play), BindingFlags.NonPublic | BindingFlags.Instance)!
            .MakeGenericMethod(DeclaredKernels.ClrType(info.Element));
        EmulatedGemm.Invoke(play, this, [type, info]);
    }

    private void Play<T>(Type type, AttentionInfo info)
        where T : unmanaged
    {
        var kernel = new DeviceAttentionRing.Kernel<T>(
            info,
            type.GetMethod("LaunchStep")!.CreateDelegate<DeviceAttentionRing.Step<T>>(),
            type.GetMethod("LaunchFinalize")!.CreateDelegate<DeviceAttentionRing.Finalize<T>>(),
            EmulatedGemm.FromFloat<T>,
            EmulatedGemm.ToFloat);
        var (outputTolerance, lseTolerance) = info.Element switch
        {
            Element.F32 => (1e-5, 1e-5),
            Element.F16 => (1e-3, 1e-4),
            _ => (8e-3, 1e-4),
        };
        foreach (var (ranks, sequence, heads, kvHeads) in new[] { (1, 1, 1, 1), (2, 77, 2, 2), (3, 300, 4, 2), (4, 513, 2, 1) })
        {
            DeviceAttentionRing.Play(
                output, CudaDevice.Emulator, kernel, ranks, sequence, heads, kvHeads, info.Layout, outputTolerance, lseTolerance);
        }
    }
}
