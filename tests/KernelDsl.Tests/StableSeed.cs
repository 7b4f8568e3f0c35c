namespace KernelDsl.Tests;

/// <summary>A seed from a case's description, the same in every process (string.GetHashCode is randomised per process), so a failure's seed reproduces it.</summary>
public static class StableSeed
{
    /// <summary>FNV-1a of <paramref name="text"/>, as a non-negative int.</summary>
    public static int Of(string text)
    {
        uint hash = 2166136261;
        foreach (char ch in text)
        {
            hash = (hash ^ ch) * 16777619;
        }

        return (int)(hash & 0x7fffffff);
    }
}
