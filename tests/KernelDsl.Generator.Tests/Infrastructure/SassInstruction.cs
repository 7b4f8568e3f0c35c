namespace KernelDsl.Generator.Tests.Infrastructure;

/// <summary>One SASS instruction of an nvdisasm listing.</summary>
/// <param name="Address">Its byte offset in the function.</param>
/// <param name="Opcode">The opcode with its modifiers, predicate removed, e.g. <c>HMMA.16816.F32.BF16</c>.</param>
/// <param name="Text">The whole instruction as listed, e.g. <c>@!P0 BRA `(.L_x_3)</c>.</param>
/// <param name="Target">The label a branch goes to, e.g. <c>.L_x_3</c>; null for anything else.</param>
internal sealed record SassInstruction(int Address, string Opcode, string Text, string? Target)
{
    /// <summary>The opcode without modifiers: <c>HMMA</c>, <c>LDGSTS</c>, <c>IMAD</c>.</summary>
    public string Base => Opcode.Split('.')[0];
}
