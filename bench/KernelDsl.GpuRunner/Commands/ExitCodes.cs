namespace KernelDsl.GpuRunner;

internal static class ExitCodes
{
    public const int Passed = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int NoDevice = 3;
    public const int NoNvrtc = 4;
    public const int Unexpected = 5;
}
