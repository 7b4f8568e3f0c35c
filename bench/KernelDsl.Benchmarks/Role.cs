namespace KernelDsl.Benchmarks;

/// <summary>
/// The category that marks each benchmark method as ours (a KernelDsl kernel) or a peer's; the report pairs every
/// ours with every peer of the same case and quotes the ratio of their speeds.
/// </summary>
public static class Role
{
    /// <summary>A KernelDsl kernel.</summary>
    public const string Ours = "ours";

    /// <summary>The library (or the plain computation) it is compared with.</summary>
    public const string Peer = "peer";
}
