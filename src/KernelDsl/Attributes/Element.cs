// One file for the runtime and the generator (linked into its project), so the values cannot drift.
#if KERNELDSL_GENERATOR
namespace KernelDsl.Generator.Model;
#else
namespace KernelDsl;
#endif

/// <summary>The element type of a kernel operand, accumulator or output.</summary>
#if KERNELDSL_GENERATOR
internal
#else
public
#endif
enum Element
{
    /// <summary>IEEE 754 binary32 (<see cref="float"/>).</summary>
    F32 = 0,
    /// <summary>IEEE 754 binary16 (<see cref="System.Half"/>); operands only, on tensor cores.</summary>
    F16 = 1,
    /// <summary>bfloat16 (8-bit exponent, 7-bit mantissa); operands only, on tensor cores.</summary>
    BF16 = 2,
}
