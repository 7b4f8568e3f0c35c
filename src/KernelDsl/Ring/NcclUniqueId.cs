using System.Runtime.CompilerServices;

namespace KernelDsl.Ring;

/// <summary><c>ncclUniqueId</c>: 128 opaque bytes made by rank 0 and handed to every rank (over MPI or a file) to form a communicator.</summary>
[InlineArray(Bytes)]
internal struct NcclUniqueId
{
    /// <summary><c>NCCL_UNIQUE_ID_BYTES</c>.</summary>
    internal const int Bytes = 128;

    private byte element;
}
