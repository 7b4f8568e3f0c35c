// One file for the runtime and the generator (linked into its project), so the values cannot drift.
#if KERNELDSL_GENERATOR
namespace KernelDsl.Generator.Model;
#else
namespace KernelDsl;
#endif

/// <summary>The activation an epilogue applies to every output element, last.</summary>
#if KERNELDSL_GENERATOR
internal
#else
public
#endif
enum Activation
{
    /// <summary>Identity.</summary>
    None = 0,
    /// <summary><c>max(x, 0)</c>.</summary>
    Relu = 1,
    /// <summary>
    /// GELU in its tanh form (PyTorch's <c>approximate="tanh"</c>):
    /// <c>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))</c>, evaluated as <c>x / (1 + e^(−2u))</c>.
    /// </summary>
    Gelu = 2,
    /// <summary>SiLU (swish): <c>x / (1 + e^(−x))</c>.</summary>
    Silu = 3,
}
