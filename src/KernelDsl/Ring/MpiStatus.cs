using System.Runtime.InteropServices;

namespace KernelDsl.Ring;

/// <summary>
/// Open MPI's <c>MPI_Status</c> on 64-bit Linux: <c>MPI_SOURCE</c>, <c>MPI_TAG</c>, <c>MPI_ERROR</c> at offsets
/// 0, 4, 8, then two private fields (<c>_cancelled</c>, a <c>size_t _ucount</c>) up to 24 bytes, as
/// <c>sizeof</c>/<c>offsetof</c> print with <c>mpicc</c> for Open MPI 4.1 on x86-64. Only the error is read
/// here; the byte count is asked of <c>MPI_Get_count</c>, which is what the standard promises.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct MpiStatus
{
    /// <summary>The request's own error code, valid when a completion call returned <c>MPI_ERR_IN_STATUS</c>.</summary>
    [FieldOffset(8)]
    public int Error;
}
