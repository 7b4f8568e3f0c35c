using System.Text;

namespace KernelDsl.Generator.Emitting;

/// <summary>
/// Builds indented source text. Lines always end in '\n' whatever the host OS, so generated
/// text is byte-identical everywhere.
/// </summary>
internal sealed class CodeWriter(string indentUnit = "    ")
{
    private readonly StringBuilder text = new();
    private int depth;

    /// <summary>Writes one line at the current indentation (an empty line has no indentation).</summary>
    public CodeWriter Line(string line = "")
    {
        if (line.Length > 0)
        {
            for (int i = 0; i < depth; i++)
            {
                text.Append(indentUnit);
            }
            text.Append(line);
        }
        text.Append('\n');
        return this;
    }

    /// <summary>Writes <paramref name="header"/>, then an opening brace, and indents.</summary>
    public CodeWriter Open(string header)
    {
        Line(header);
        Line("{");
        depth++;
        return this;
    }

    /// <summary>Outdents and writes a closing brace with an optional suffix (e.g. ";").</summary>
    public CodeWriter Close(string suffix = "")
    {
        depth--;
        return Line("}" + suffix);
    }

    /// <summary>Indents the lines that follow by one more unit, until <see cref="Outdent"/>.</summary>
    public CodeWriter Indent()
    {
        depth++;
        return this;
    }

    /// <summary>Undoes one <see cref="Indent"/>.</summary>
    public CodeWriter Outdent()
    {
        depth--;
        return this;
    }

    /// <summary>Writes a line exactly as given, without indentation (raw string literal content).</summary>
    public CodeWriter Raw(string line)
    {
        text.Append(line).Append('\n');
        return this;
    }

    /// <summary>Writes each line of a multi-line block at the current indentation.</summary>
    public CodeWriter Lines(string block)
    {
        foreach (string line in block.Replace("\r\n", "\n").TrimEnd('\n').Split('\n'))
        {
            Line(line);
        }
        return this;
    }

    public override string ToString() => text.ToString();
}
