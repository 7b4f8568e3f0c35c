namespace KernelDsl.Generator.Parsing;

/// <summary>Metadata names of the runtime's attributes, the only coupling between generator and runtime.</summary>
internal static class AttributeNames
{
    public const string Gemm = "KernelDsl.GemmAttribute";
    public const string Tile = "KernelDsl.TileAttribute";
    public const string Warps = "KernelDsl.WarpsAttribute";
    public const string Pipeline = "KernelDsl.PipelineAttribute";
    public const string Epilogue = "KernelDsl.EpilogueAttribute";
    public const string RingAttention = "KernelDsl.RingAttentionAttribute";
    public const string Overlap = "KernelDsl.OverlapAttribute";

    /// <summary>Attributes that tune a kernel and mean nothing without one.</summary>
    public static readonly string[] Tuning = [Tile, Warps, Pipeline, Epilogue, Overlap];

    /// <summary>Attributes that declare a kernel.</summary>
    public static readonly string[] Kernels = [Gemm, RingAttention];

    /// <summary>The name as written in source, e.g. <c>Tile</c> for <c>KernelDsl.TileAttribute</c>.</summary>
    public static string ShortName(string metadataName)
    {
        string name = metadataName.Substring(metadataName.LastIndexOf('.') + 1);
        return name.EndsWith("Attribute", System.StringComparison.Ordinal) ? name.Substring(0, name.Length - "Attribute".Length) : name;
    }
}
