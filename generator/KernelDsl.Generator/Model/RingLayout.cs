namespace KernelDsl.Generator.Model;

/// <summary>Mirror of the runtime's <c>KernelDsl.Ring.RingLayout</c> (same values).</summary>
internal enum RingLayout
{
    Contiguous = 0,
    Striped = 1,
    Zigzag = 2,
}
