using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;

using DiffPlex.Renderer;

namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>
/// Snapshot assertions (Verify is not available here). The approved text lives next to the tests as
/// <c>Snapshots/NAME.verified.EXT</c>; a mismatch writes <c>NAME.received.EXT</c> beside it and fails
/// with a unified diff. Set KERNELDSL_ACCEPT_SNAPSHOTS=1 to accept received text, then review the
/// change in git like any other code.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "KERNELDSL_ACCEPT_SNAPSHOTS";

    public static void Match(string actual, string name, string extension, [CallerFilePath] string caller = "")
    {
        string folder = Path.Combine(Path.GetDirectoryName(caller)!, "Snapshots");
        string verified = Path.Combine(folder, $"{name}.verified.{extension}");
        string received = Path.Combine(folder, $"{name}.received.{extension}");
        actual = actual.Replace("\r\n", "\n");

        if (File.Exists(verified) && File.ReadAllText(verified) == actual)
        {
            File.Delete(received);
            return;
        }
        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(verified, actual, new UTF8Encoding(false));
            File.Delete(received);
            return;
        }
        Directory.CreateDirectory(folder);
        File.WriteAllText(received, actual, new UTF8Encoding(false));
        string expected = File.Exists(verified) ? File.ReadAllText(verified) : "";
        string diff = UnidiffRenderer.GenerateUnidiff(expected, actual, verified, received, ignoreWhitespace: false);
        throw new Xunit.Sdk.XunitException(
            $"Snapshot {name}.{extension} differs from {verified} (received text written to {received}; " +
            $"review it and set {AcceptVariable}=1 to accept):\n{diff}");
    }
}
