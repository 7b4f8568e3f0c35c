using System.Text;
using KernelDsl.Generator.Model;

namespace KernelDsl.Generator.Planning;

/// <summary>CUDA <c>extern "C"</c> names: a prefix and the qualified class name with every non-identifier character as '_'.</summary>
internal static class EntryPointName
{
    public static string For(string prefix, KernelIdentity kernel)
    {
        var name = new StringBuilder(prefix);
        foreach (char c in kernel.QualifiedName)
        {
            name.Append(char.IsLetterOrDigit(c) && c < 128 ? c : '_');
        }
        return name.ToString();
    }
}
