using KernelDsl.Generator.Model;

namespace KernelDsl.Generator.Planning;

/// <summary>
/// Every decision about one ring-attention kernel. Emitters print this. The CPU fallback has no entry: its block
/// kernels and their blocking are the runtime's (<c>KernelDsl.Ring.CpuRingAttention</c>); the kernel gives them its
/// head dimension and scale.
/// </summary>
/// <param name="StepEntryPoint">CUDA kernel of one ring step: the block attends its Q tile to one KV shard and merges into the running (O, L).</param>
/// <param name="FinalizeEntryPoint">CUDA kernel that writes O in the element type and L after the last step.</param>
/// <param name="Scale">Softmax scale (1/√HeadDim unless the user set one).</param>
/// <param name="Cuda">Thread-block tiling of the step kernel.</param>
/// <param name="BackwardEntryPoints">CUDA kernels of the backward pass: the step, D = rowsum(dO ∘ O), and an fp32 gradient's conversion.</param>
/// <param name="CudaBackward">Tiling of the backward step kernel; null where there is none (16-bit elements with d too large for dK and dV of 16 keys per warp in registers).</param>
internal sealed record AttentionPlan(
    KernelIdentity Kernel,
    string StepEntryPoint,
    string FinalizeEntryPoint,
    int HeadDim,
    Element Element,
    bool Causal,
    float Scale,
    RingLayout Layout,
    int Buffers,
    CudaAttentionPlan Cuda,
    (string Step, string Delta, string Gradient) BackwardEntryPoints,
    CudaAttentionBackwardPlan? CudaBackward)
{
    /// <summary>exp(x·scale) = exp2(x·scale·log2 e): the kernels fold log2(e) into the scale and use exp2.</summary>
    public float ScaleLog2 => (float)(Scale * 1.4426950408889634);
}
