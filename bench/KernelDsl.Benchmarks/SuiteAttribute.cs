using System;

namespace KernelDsl.Benchmarks;

/// <summary>A suite's name and what its cases are, for the report's headings, docs/BENCHMARKS.md and the plot titles.</summary>
/// <param name="title">Short name, e.g. "SGEMM (fp32)"; also names the plot file.</param>
/// <param name="description">The sizes, layouts and threads every case of the suite shares.</param>
[AttributeUsage(AttributeTargets.Class)]
public sealed class SuiteAttribute(string title, string description) : Attribute
{
    /// <summary>Short name.</summary>
    public string Title { get; } = title;

    /// <summary>What the cases share.</summary>
    public string Description { get; } = description;
}
