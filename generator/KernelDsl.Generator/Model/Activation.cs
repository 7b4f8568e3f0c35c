namespace KernelDsl.Generator.Model;

/// <summary>Mirror of the runtime's <c>KernelDsl.Activation</c> (same values).</summary>
internal enum Activation
{
    None = 0,
    Relu = 1,
    Gelu = 2,
    Silu = 3,
}
