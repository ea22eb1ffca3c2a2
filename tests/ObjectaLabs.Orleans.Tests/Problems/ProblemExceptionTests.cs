using ObjectaLabs.Orleans.Problems;

namespace ObjectaLabs.Orleans.Tests.Problems;

/// <summary>A problem's extensions never overwrite the members every problem answer has.</summary>
public sealed class ProblemExceptionTests
{
    [Theory]
    [InlineData("status")]
    [InlineData("Title")]
    [InlineData("field")]
    [InlineData("errors")]
    public void An_extension_named_like_a_problem_member_is_refused_at_construction(string name) =>
        FluentActions.Invoking(() => new ProblemException(ProblemKind.Conflict, "t", "d", null, new Dictionary<string, string> { [name] = "x" }))
            .Should().Throw<ArgumentException>().WithMessage($"'{name}' is a problem member*");

    [Fact]
    public void Other_extension_names_are_kept() =>
        new ProblemException(ProblemKind.Conflict, "t", "d", null, new Dictionary<string, string> { ["modelStatus"] = "deprecated" })
            .Extensions["modelStatus"].Should().Be("deprecated");
}
