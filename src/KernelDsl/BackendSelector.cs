using System;
using System.Diagnostics;
using System.Threading;
using KernelDsl.Cuda;

namespace KernelDsl;

/// <summary>
/// Chooses where a kernel call runs. A call that names <see cref="KernelBackend.Cuda"/>,
/// <see cref="KernelBackend.Cpu"/> or <see cref="KernelBackend.Emulator"/> gets it; a call that asks for <see cref="KernelBackend.Auto"/>
/// gets the process default (<see cref="Default"/>, from <c>KERNELDSL_BACKEND</c> unless set in
/// code), and when that is <see cref="KernelBackend.Auto"/> too, CUDA if a device is available,
/// else the CPU fallback. The emulator runs only when named.
/// </summary>
/// <remarks>
/// The first automatic choice in a process is written to <see cref="Trace"/> with the reason,
/// e.g. <c>KernelDsl: backend Auto → Cpu (no CUDA device: …)</c>.
/// </remarks>
public static class BackendSelector
{
    /// <summary>
    /// The environment variable that sets the process default: <c>cpu</c>, <c>cuda</c>, <c>emulator</c> or
    /// <c>auto</c> (any case); unset or empty means <c>auto</c>.
    /// </summary>
    public const string EnvironmentVariable = "KERNELDSL_BACKEND";

    private const int NotSet = -1;

    // A KernelBackend set in code, or NotSet to follow the environment variable.
    private static int setInCode = NotSet;
    private static int announced;

    /// <summary>
    /// The backend for calls that ask for <see cref="KernelBackend.Auto"/>. Until set, it is read
    /// from <c>KERNELDSL_BACKEND</c> on every use; once set, the value set wins for the rest of
    /// the process.
    /// </summary>
    /// <exception cref="InvalidOperationException">On get: <c>KERNELDSL_BACKEND</c> holds something other than cpu, cuda, emulator or auto.</exception>
    /// <exception cref="ArgumentOutOfRangeException">On set: the value is not a defined <see cref="KernelBackend"/>.</exception>
    public static KernelBackend Default
    {
        get
        {
            int set = Volatile.Read(ref setInCode);
            return set == NotSet ? Parse(Environment.GetEnvironmentVariable(EnvironmentVariable)) : (KernelBackend)set;
        }

        set
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "Not a KernelBackend.");
            }

            Volatile.Write(ref setInCode, (int)value);
        }
    }

    /// <summary>The backend a call asking for <paramref name="requested"/> runs on: <see cref="KernelBackend.Cuda"/>, <see cref="KernelBackend.Cpu"/> or <see cref="KernelBackend.Emulator"/>, never Auto.</summary>
    /// <param name="requested">What the caller asked for; <see cref="KernelBackend.Auto"/> defers to <see cref="Default"/>.</param>
    /// <exception cref="CudaUnavailableException">CUDA was asked for (by the caller or the default) and no device is available; the message says why.</exception>
    /// <exception cref="InvalidOperationException"><c>KERNELDSL_BACKEND</c> holds something other than cpu, cuda, emulator or auto.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="requested"/> is not a defined <see cref="KernelBackend"/>.</exception>
    public static KernelBackend Resolve(KernelBackend requested = KernelBackend.Auto)
    {
        string origin = "by the caller";
        KernelBackend wanted = requested;
        if (requested == KernelBackend.Auto)
        {
            wanted = Default;
            origin = Volatile.Read(ref setInCode) == NotSet
                ? $"by {EnvironmentVariable}={Environment.GetEnvironmentVariable(EnvironmentVariable)}"
                : "by BackendSelector.Default";
        }

        // Only an automatic choice needs the device probe; an explicit Cpu must work on a
        // machine where probing the driver misbehaves.
        string? unavailable = wanted is KernelBackend.Cpu or KernelBackend.Emulator ? null : CudaDevice.UnavailableReason;
        KernelBackend chosen = Resolve(requested, wanted, origin, unavailable);
        if (wanted == KernelBackend.Auto && Interlocked.Exchange(ref announced, 1) == 0)
        {
            Trace.TraceInformation(
                chosen == KernelBackend.Cuda
                    ? "KernelDsl: backend Auto → Cuda (a CUDA device is available)."
                    : $"KernelDsl: backend Auto → Cpu (no CUDA device: {unavailable}).");
        }

        return chosen;
    }

    /// <summary>
    /// The decision itself, free of process state: <paramref name="wanted"/> is what the caller
    /// or the default asked for, <paramref name="origin"/> who asked (for the message), and
    /// <paramref name="unavailableReason"/> is <see langword="null"/> when a CUDA device is available.
    /// </summary>
    internal static KernelBackend Resolve(KernelBackend requested, KernelBackend wanted, string origin, string? unavailableReason)
    {
        if (!Enum.IsDefined(requested))
        {
            throw new ArgumentOutOfRangeException(nameof(requested), requested, "Not a KernelBackend.");
        }

        return wanted switch
        {
            KernelBackend.Cpu => KernelBackend.Cpu,
            KernelBackend.Emulator => KernelBackend.Emulator,
            KernelBackend.Cuda when unavailableReason is null => KernelBackend.Cuda,
            KernelBackend.Cuda => throw new CudaUnavailableException(
                $"The CUDA backend was requested {origin}, but no CUDA device is available: {unavailableReason}. " +
                $"Ask for KernelBackend.Auto or KernelBackend.Cpu, or set {EnvironmentVariable}=cpu, to run on the CPU fallback."),
            _ => unavailableReason is null ? KernelBackend.Cuda : KernelBackend.Cpu,
        };
    }

    /// <summary>Reads a <c>KERNELDSL_BACKEND</c> value.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="value"/> is not cpu, cuda, emulator or auto.</exception>
    internal static KernelBackend Parse(string? value)
    {
        string trimmed = value?.Trim() ?? "";
        if (trimmed.Length == 0 || trimmed.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            return KernelBackend.Auto;
        }

        if (trimmed.Equals("cuda", StringComparison.OrdinalIgnoreCase))
        {
            return KernelBackend.Cuda;
        }

        if (trimmed.Equals("cpu", StringComparison.OrdinalIgnoreCase))
        {
            return KernelBackend.Cpu;
        }

        if (trimmed.Equals("emulator", StringComparison.OrdinalIgnoreCase))
        {
            return KernelBackend.Emulator;
        }

        throw new InvalidOperationException(
            $"{EnvironmentVariable}='{value}' is not a backend: use cpu, cuda, emulator or auto (any case), or leave it unset for auto.");
    }
}
