using System;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Json;
using KernelDsl.Cuda;

namespace KernelDsl.GpuRunner;

/// <summary>
/// The machine-readable result of one command: a JSON object written with <see cref="Utf8JsonWriter"/> (no
/// reflection, so trimming keeps it intact) to --json PATH or $OUT/&lt;command&gt;.json.
/// </summary>
internal sealed class Report : IDisposable
{
    private readonly FileStream? file;

    private Report(string command, string? path)
    {
        Path = path;
        Stream stream = Stream.Null;
        if (path is not null)
        {
            string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
            if (folder is not null)
            {
                Directory.CreateDirectory(folder);
            }
            file = new FileStream(path, FileMode.Create, FileAccess.Write);
            stream = file;
        }
        Writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        Writer.WriteStartObject();
        Writer.WriteString("command", command);
        Writer.WriteString("date_utc", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        Writer.WriteString("runner", typeof(Report).Assembly.GetName().Version?.ToString() ?? "");
        Writer.WriteString("host", Environment.MachineName);
        Writer.WriteString("os", RuntimeInformation.OSDescription);
        Writer.WriteNumber("cpu_cores", Environment.ProcessorCount);
    }

    /// <summary>Where the JSON goes; null when nowhere.</summary>
    public string? Path { get; }

    public Utf8JsonWriter Writer { get; }

    /// <summary>Opens the report at --json, else $OUT/&lt;command&gt;.json, else writes nothing.</summary>
    public static Report Open(Options options, string fileName)
    {
        string? path = options.Json;
        if (path is null && Environment.GetEnvironmentVariable("OUT") is { Length: > 0 } output)
        {
            path = System.IO.Path.Combine(output, fileName);
        }
        return new Report(options.Command, path);
    }

    /// <summary>Device, driver and NVRTC as far as they can be read; never throws.</summary>
    public void WriteEnvironment()
    {
        Writer.WriteStartObject("environment");
        try
        {
            Writer.WriteString("nvrtc", NvrtcCompiler.Version.ToString());
        }
        catch (Exception e)
        {
            Writer.WriteString("nvrtc_error", e.Message);
        }
        if (CudaDevice.IsAvailable)
        {
            var device = CudaDevice.Default;
            Writer.WriteString("device", device.Name);
            Writer.WriteNumber("arch", device.Arch);
            Writer.WriteNumber("sms", device.MultiprocessorCount);
            Writer.WriteNumber("memory_mib", device.TotalMemory >> 20);
            Writer.WriteNumber("shared_optin_bytes", device.MaxSharedBytesPerBlockOptin);
            Writer.WriteString("driver_cuda", device.DriverVersion.ToString());
        }
        else
        {
            Writer.WriteString("device_unavailable", CudaDevice.UnavailableReason);
        }
        Writer.WriteString("kernel_cache", KernelCache.Directory);
        Writer.WriteEndObject();
    }

    /// <summary>Writes a number, or null for NaN/∞ (JSON has no such numbers).</summary>
    public void Number(string name, double value)
    {
        if (double.IsFinite(value))
        {
            Writer.WriteNumber(name, value);
        }
        else
        {
            Writer.WriteNull(name);
        }
    }

    public void Timing(string name, TimingResult? timing)
    {
        if (timing is null)
        {
            Writer.WriteNull(name);
            return;
        }
        Writer.WriteStartObject(name);
        Number("median_ms", timing.MedianMs);
        Number("min_ms", timing.MinMs);
        Number("max_ms", timing.MaxMs);
        Number("q1_ms", timing.Q1Ms);
        Number("q3_ms", timing.Q3Ms);
        Writer.WriteNumber("samples", timing.Samples);
        Writer.WriteNumber("launches_per_sample", timing.LaunchesPerSample);
        Writer.WriteEndObject();
    }

    public void Dispose()
    {
        Writer.WriteEndObject();
        Writer.Flush();
        Writer.Dispose();
        file?.Dispose();
    }
}
