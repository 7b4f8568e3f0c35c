using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;

namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>Runs <c>nvdisasm</c> (from <see cref="CudaToolchain.Nvdisasm"/>) on a CUBIN; no GPU needed.</summary>
internal static class Nvdisasm
{
    /// <summary>The SASS of every function in <paramref name="cubin"/>.</summary>
    public static IReadOnlyList<SassFunction> Disassemble(byte[] cubin) => SassFunction.ParseListing(Listing(cubin));

    /// <summary><c>nvdisasm --print-code</c>'s text for <paramref name="cubin"/>: code sections only.</summary>
    public static string Listing(byte[] cubin)
    {
        string tool = CudaToolchain.Nvdisasm;
        string file = Path.Combine(Path.GetTempPath(), $"kerneldsl-sass-{Guid.NewGuid():N}.cubin");
        File.WriteAllBytes(file, cubin);
        try
        {
            ProcessStartInfo start = new(tool)
            {
                ArgumentList = { "--print-code", file },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start.");
            var error = process.StandardError.ReadToEndAsync();
            string listing = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0
                ? listing
                : throw new InvalidOperationException($"{tool} --print-code failed ({process.ExitCode}): {error.Result}");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
