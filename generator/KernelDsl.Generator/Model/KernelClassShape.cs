namespace KernelDsl.Generator.Model;

/// <summary>
/// How the user declared a kernel type, as read from its symbol: what validation needs to tell whether the generated
/// members can be added to it.
/// </summary>
/// <param name="Keyword">The declaration's keyword: <c>class</c>, <c>record</c>, <c>struct</c>, <c>record struct</c> or <c>interface</c>.</param>
/// <param name="IsStatic">Declared <c>static</c>.</param>
/// <param name="IsPartial">This declaration is <c>partial</c>, and so is every declaration of every containing type.</param>
/// <param name="IsFileLocal">Declared <c>file</c> (or inside a <c>file</c> type): a generated <c>partial</c> declaration, in another file, would be another type.</param>
/// <param name="IsFirstKernelDeclaration">
/// This declaration is the first of the type's partial declarations to carry this kernel attribute; a later one is
/// a duplicate the compiler reports too (CS0579), and only the first is generated.
/// </param>
internal sealed record KernelClassShape(string Keyword, bool IsStatic, bool IsPartial, bool IsFileLocal, bool IsFirstKernelDeclaration);
