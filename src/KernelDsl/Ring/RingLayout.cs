// One file for the runtime and the generator (linked into its project), so the values cannot drift.
#if KERNELDSL_GENERATOR
namespace KernelDsl.Generator.Model;
#else
namespace KernelDsl.Ring;
#endif

/// <summary>
/// How a global sequence of S tokens is split over the P ranks of a ring. Within every layout a
/// rank's tokens have strictly increasing global positions in local order, which is what lets a
/// block kernel bound any run of local rows by its first and last position (see <see cref="RingMask"/>).
/// </summary>
#if KERNELDSL_GENERATOR
internal
#else
public
#endif
enum RingLayout
{
    /// <summary>
    /// Rank r holds one contiguous range. When S % P ≠ 0 the first S % P ranks hold one token more,
    /// so lengths differ by at most 1. Simple, but under a causal mask the last rank does P times the
    /// work of the first.
    /// </summary>
    Contiguous = 0,

    /// <summary>
    /// Token t goes to rank t mod P: local index i of rank r is global position i·P + r. Causal work
    /// is balanced to within one row per step, but every block pair needs a per-element mask.
    /// </summary>
    Striped = 1,

    /// <summary>
    /// The sequence is cut into 2P chunks (lengths differ by at most 1, earlier chunks longer) and
    /// rank r holds chunks r and 2P−1−r: one early and one late chunk, so under a causal mask every
    /// rank does the same work at every step and whole chunk pairs are either full or skipped.
    /// </summary>
    Zigzag = 2,
}
