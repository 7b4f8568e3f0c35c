using System;
using System.Globalization;
using System.IO;
using System.Runtime.Intrinsics.X86;

namespace KernelDsl.Cpu;

/// <summary>
/// The data caches of the machine the code runs on, as the CPU blocking sizes its packed blocks for them: read from
/// Linux's <c>/sys/devices/system/cpu/cpu0/cache</c>, else from x86 CPUID (leaf 4 on Intel, 0x80000005/6 on AMD;
/// virtual machines often hide the sysfs files), else <see cref="Fallback"/>.
/// </summary>
/// <param name="L1DataBytes">Level-1 data cache of one core.</param>
/// <param name="L2Bytes">Level-2 cache of one core.</param>
/// <param name="L3BytesPerCore">The level-3 cache divided by the logical processors that share it (all of this process's when unknown).</param>
/// <param name="Source">Where the figures came from: <c>sysfs</c>, <c>cpuid</c> or <c>fallback</c>.</param>
public sealed record CpuCaches(long L1DataBytes, long L2Bytes, long L3BytesPerCore, string Source)
{
    /// <summary>Used when the machine does not say: a common modern core (32 KiB L1d, 1 MiB L2, 4 MiB of L3 per core).</summary>
    public static CpuCaches Fallback { get; } = new(32 * 1024, 1024 * 1024, 4 * 1024 * 1024, "fallback");

    /// <summary>This machine's caches, read once.</summary>
    public static CpuCaches ThisMachine { get; } = FromSysfs("/sys/devices/system/cpu/cpu0/cache") ?? FromCpuid() ?? Fallback;

    /// <summary>A one-line summary, e.g. <c>L1d 48 KiB, L2 1024 KiB, L3 4096 KiB per core (cpuid)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"L1d {L1DataBytes / 1024} KiB, L2 {L2Bytes / 1024} KiB, L3 {L3BytesPerCore / 1024} KiB per core ({Source})");

    /// <summary>The caches described by the <c>index*</c> folders under <paramref name="folder"/>, or null when a level is missing.</summary>
    internal static CpuCaches? FromSysfs(string folder)
    {
        long l1 = 0, l2 = 0, l3 = 0;
        try
        {
            if (!Directory.Exists(folder))
            {
                return null;
            }
            foreach (string index in Directory.GetDirectories(folder, "index*"))
            {
                string type = File.ReadAllText(Path.Combine(index, "type")).Trim();
                if (type == "Instruction")
                {
                    continue;
                }
                int level = int.Parse(File.ReadAllText(Path.Combine(index, "level")).Trim(), CultureInfo.InvariantCulture);
                long size = ParseSize(File.ReadAllText(Path.Combine(index, "size")).Trim());
                int sharing = CountCpus(File.ReadAllText(Path.Combine(index, "shared_cpu_list")).Trim());
                switch (level)
                {
                    case 1: l1 = size; break;
                    case 2: l2 = size; break;
                    case 3: l3 = size / Math.Max(1, sharing); break;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return null;
        }
        return l1 > 0 && l2 > 0 ? new CpuCaches(l1, l2, l3 > 0 ? l3 : Fallback.L3BytesPerCore, "sysfs") : null;
    }

    /// <summary>A sysfs size such as <c>48K</c>, <c>1024K</c> or <c>32M</c>, in bytes.</summary>
    internal static long ParseSize(string text)
    {
        long unit = text.EndsWith('K') ? 1024 : text.EndsWith('M') ? 1024 * 1024 : 1;
        return long.Parse(unit == 1 ? text : text[..^1], CultureInfo.InvariantCulture) * unit;
    }

    /// <summary>Processors in a sysfs list such as <c>0-3,8-11</c> or <c>0</c>.</summary>
    internal static int CountCpus(string list)
    {
        int count = 0;
        foreach (string range in list.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int dash = range.IndexOf('-');
            count += dash < 0 ? 1 : int.Parse(range[(dash + 1)..], CultureInfo.InvariantCulture) - int.Parse(range[..dash], CultureInfo.InvariantCulture) + 1;
        }
        return count;
    }

    /// <summary>
    /// The caches from CPUID. Leaf 4 (Intel) lists each cache with its geometry and sharing; AMD's 0x80000005 gives
    /// the L1d in KiB (ECX[31:24]) and 0x80000006 the L2 in KiB (ECX[31:16]) and the L3 in 512 KiB units (EDX[31:18]),
    /// whose sharing this process cannot see, so the L3 is divided by the processors it may use.
    /// </summary>
    private static CpuCaches? FromCpuid()
    {
        if (!X86Base.IsSupported)
        {
            return null;
        }
        long l1 = 0, l2 = 0, l3 = 0;
        for (int subleaf = 0; subleaf < 16; subleaf++)
        {
            var (eax, ebx, ecx, _) = X86Base.CpuId(4, subleaf);
            int type = eax & 0x1F;
            if (type == 0)
            {
                break;
            }
            if (type == 2)
            {
                continue;  // instruction cache
            }
            long size = (long)(((ebx >> 22) & 0x3FF) + 1) * (((ebx >> 12) & 0x3FF) + 1) * ((ebx & 0xFFF) + 1) * (ecx + 1);
            int sharing = ((eax >> 14) & 0xFFF) + 1;
            switch ((eax >> 5) & 0x7)
            {
                case 1: l1 = size; break;
                case 2: l2 = size; break;
                case 3: l3 = size / Math.Min(sharing, Environment.ProcessorCount); break;
            }
        }
        if (l1 == 0 && (uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax >= 0x80000006)
        {
            l1 = (long)((uint)X86Base.CpuId(unchecked((int)0x80000005), 0).Ecx >> 24) * 1024;
            var (_, _, ecx, edx) = X86Base.CpuId(unchecked((int)0x80000006), 0);
            l2 = (long)((uint)ecx >> 16) * 1024;
            l3 = (long)((uint)edx >> 18) * 512 * 1024 / Environment.ProcessorCount;
        }
        return l1 > 0 && l2 > 0 ? new CpuCaches(l1, l2, l3 > 0 ? l3 : Fallback.L3BytesPerCore, "cpuid") : null;
    }
}
