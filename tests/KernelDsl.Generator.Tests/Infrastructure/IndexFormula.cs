using System.Collections.Generic;
using System.Globalization;
using Xunit;

namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>The index formulas the emitters print, evaluated as the CUDA compiler would (int arithmetic).</summary>
internal static class IndexFormula
{
    /// <summary>Evaluates one of the printed index formulas: integers, names, + - * / % ^ and parentheses, with C's precedence and int semantics.</summary>
    public static int Evaluate(string formula, IReadOnlyDictionary<string, int> variables)
    {
        var tokens = Tokenize(formula);
        int at = 0;
        int value = Xor(tokens, ref at, variables);
        Assert.True(at == tokens.Count, $"unparsed tail in '{formula}'");
        return value;
    }

    private static List<string> Tokenize(string formula)
    {
        var tokens = new List<string>();
        for (int i = 0; i < formula.Length;)
        {
            char ch = formula[i];
            if (char.IsWhiteSpace(ch))
            {
                i++;
            }
            else if (char.IsLetterOrDigit(ch) || ch == '_')
            {
                int start = i;
                while (i < formula.Length && (char.IsLetterOrDigit(formula[i]) || formula[i] == '_'))
                {
                    i++;
                }
                tokens.Add(formula[start..i]);
            }
            else
            {
                tokens.Add(ch.ToString());
                i++;
            }
        }
        return tokens;
    }

    private static int Xor(List<string> tokens, ref int at, IReadOnlyDictionary<string, int> variables)
    {
        int value = Additive(tokens, ref at, variables);
        while (at < tokens.Count && tokens[at] == "^")
        {
            at++;
            value ^= Additive(tokens, ref at, variables);
        }
        return value;
    }

    private static int Additive(List<string> tokens, ref int at, IReadOnlyDictionary<string, int> variables)
    {
        int value = Multiplicative(tokens, ref at, variables);
        while (at < tokens.Count && tokens[at] is "+" or "-")
        {
            string op = tokens[at++];
            int right = Multiplicative(tokens, ref at, variables);
            value = op == "+" ? value + right : value - right;
        }
        return value;
    }

    private static int Multiplicative(List<string> tokens, ref int at, IReadOnlyDictionary<string, int> variables)
    {
        int value = Primary(tokens, ref at, variables);
        while (at < tokens.Count && tokens[at] is "*" or "/" or "%")
        {
            string op = tokens[at++];
            int right = Primary(tokens, ref at, variables);
            value = op switch { "*" => value * right, "/" => value / right, _ => value % right };
        }
        return value;
    }

    private static int Primary(List<string> tokens, ref int at, IReadOnlyDictionary<string, int> variables)
    {
        string token = tokens[at++];
        if (token == "(")
        {
            int value = Xor(tokens, ref at, variables);
            Assert.Equal(")", tokens[at++]);
            return value;
        }
        return char.IsDigit(token[0])
            ? int.Parse(token, CultureInfo.InvariantCulture)
            : variables.TryGetValue(token, out int v) ? v : throw new KeyNotFoundException($"formula variable '{token}'");
    }
}
