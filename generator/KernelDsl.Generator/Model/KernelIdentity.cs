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
/// <param name="CatalogReference">
/// The type as code at the top level of its assembly names it (<c>global::App.Outer.Proj</c>), for
/// <c>AssemblyKernels</c>; empty when no such code can: a private or protected type (or one inside such a type), or
/// one inside a generic type.
/// </param>
internal sealed record KernelIdentity(
    string Namespace,
    string ClassName,
    string QualifiedName,
    string MetadataName,
    string Declaration,
    EquatableArray<string> ContainingDeclarations,
    string CatalogReference);
