namespace KernelDsl.Generator.Model;

/// <summary>
/// Where the generated members go: the partial class's namespace, its declaration header
/// (e.g. <c>partial class Proj</c>) and those of any containing types, outermost first.
/// </summary>
/// <param name="QualifiedName">Namespace, containing types and name with dots, e.g. <c>Samples.Proj</c>; names the CUDA entry point and the kernel in messages.</param>
/// <param name="MetadataName">
/// <see cref="QualifiedName"/> with each generic type's arity (<c>App.Outer`1.K</c>) and without <c>@</c>: unique per
/// type, and every character legal in a file name, so it names the generated file.
/// </param>
internal sealed record KernelIdentity(
    string Namespace,
    string ClassName,
    string QualifiedName,
    string MetadataName,
    string Declaration,
    EquatableArray<string> ContainingDeclarations);
