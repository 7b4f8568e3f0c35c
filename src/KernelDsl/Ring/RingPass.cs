namespace KernelDsl.Ring;

/// <summary>Which pass a ring runs, as the handshake states it: ranks in different passes would pair unrelated transfers.</summary>
internal enum RingPass
{
    Forward = 0,
    Backward = 1,
}
