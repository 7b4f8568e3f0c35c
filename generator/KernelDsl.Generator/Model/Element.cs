namespace KernelDsl.Generator.Model;

/// <summary>Mirror of the runtime's <c>KernelDsl.Element</c> (same values; the generator cannot reference the runtime).</summary>
internal enum Element
{
    F32 = 0,
    F16 = 1,
    BF16 = 2,
}
