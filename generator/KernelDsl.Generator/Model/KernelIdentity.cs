namespace KernelDsl.Generator.Model;

/// <summary>
/// Where the generated members go: the partial class's namespace, its declaration header
/// (e.g. <c>partial class Proj</c>) and those of any containing types, outermost first.
/// </summary>
/// <param name="QualifiedName">Namespace, containing types and name with dots, e.g. <c>Samples.Proj</c>; names the generated file and the CUDA entry point.</param>
internal sealed record KernelIdentity(
    string Namespace,
    string ClassName,
    string QualifiedName,
    string Declaration,
    EquatableArray<string> ContainingDeclarations);
