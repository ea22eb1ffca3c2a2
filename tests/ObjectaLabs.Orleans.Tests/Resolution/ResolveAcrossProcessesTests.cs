using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using ObjectaLabs.Orleans.Deployment;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Resolution;

/// <summary>
/// Resolution on two API processes: the test's in-process API host and the production API binary started as its own
/// operating-system process on the same cluster.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class ResolveAcrossProcessesTests(ApiFixture fixture)
{
    private const string Small = "sandbox/sandbox-small";
    private const string Large = "sandbox/sandbox-large";

    [Fact]
    public async Task Two_api_processes_give_every_subject_the_same_arm_and_a_split_change_and_a_revocation_reach_the_other_within_a_second()
    {
        var (org, adminKey) = await fixture.CreateOrganizationAsync("business");
        using var admin = fixture.Client(adminKey);
        var agent = (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/agents", new { name = "Bot", defaultBaseModel = Small }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetGuid();
        var deployment = $"/v1/organizations/{org}/agents/{agent}/deployment";
        await (await admin.PutAsJsonAsync(deployment, new { model = new { baseModel = Small } })).ReadJsonAsync();
        var experiment = (await (await admin.PostAsJsonAsync($"{deployment}/experiment", new { candidate = new { baseModel = Large }, candidateShare = 0.3 })).ReadJsonAsync())
            .GetProperty("experiment").GetProperty("id").GetGuid();
        async Task<string> IssueAsync(string scope) =>
            (await (await admin.PostAsJsonAsync($"/v1/organizations/{org}/api-keys", new { name = scope, scope })).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("key").GetString()!;
        var runtimeKey = await IssueAsync("runtime");
        var doomedKey = await IssueAsync("admin");
        using var process = await ApiProcess.StartAsync(fixture.Database.ConnectionString, fixture.AdminKey);
        using var here = fixture.Client(runtimeKey);
        using var there = fixture.Client(runtimeKey, process.Address);
        using var doomedThere = fixture.Client(doomedKey, process.Address);
        string Resolve(string subject) => $"/v1/organizations/{org}/agents/{agent}/resolve?subject={Uri.EscapeDataString(subject)}";
        async Task<string> ArmAsync(HttpClient client, string subject) => (await (await client.GetAsync(Resolve(subject))).ReadJsonAsync()).GetProperty("arm").GetString()!;

        var subjects = Enumerable.Range(0, 300).Select(i => $"end-user-{i}").ToList();
        var armsHere = new List<string>();
        var armsThere = new List<string>();
        foreach (var subject in subjects)
        {
            armsHere.Add(await ArmAsync(here, subject));
            armsThere.Add(await ArmAsync(there, subject));
        }
        (await doomedThere.GetAsync($"/v1/organizations/{org}")).StatusCode.Should().Be(HttpStatusCode.OK, process.RecentOutput);

        // A subject in the band that moves from control to candidate when the split goes from 30 % to 60 %.
        var mover = subjects.First(s => StickyAssignment.Assign(experiment, s, 0.3) == ExperimentArm.Control && StickyAssignment.Assign(experiment, s, 0.6) == ExperimentArm.Candidate);
        await (await admin.PutAsJsonAsync($"{deployment}/experiment/split", new { candidateShare = 0.6 })).ReadJsonAsync();
        var splitAt = Stopwatch.StartNew();
        while (await ArmAsync(there, mover) != "candidate" && splitAt.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        var splitPropagation = splitAt.Elapsed;

        var keyId = doomedKey.Split('_')[2];
        (await admin.DeleteAsync($"/v1/organizations/{org}/api-keys/{keyId}")).StatusCode.Should().Be(HttpStatusCode.OK);
        var revokedAt = Stopwatch.StartNew();
        HttpStatusCode status;
        while ((status = (await doomedThere.GetAsync($"/v1/organizations/{org}")).StatusCode) == HttpStatusCode.OK && revokedAt.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        var revocationPropagation = revokedAt.Elapsed;

        armsThere.Should().Equal(armsHere, "a subject gets the same arm from every API process");
        armsHere.Should().Equal(subjects.Select(s => StickyAssignment.Assign(experiment, s, 0.3) == ExperimentArm.Candidate ? "candidate" : "control"));
        (armsHere.Count(a => a == "candidate") / 300.0).Should().BeApproximately(0.3, 0.08);
        splitPropagation.Should().BeLessThan(TimeSpan.FromSeconds(1), "a split change reaches the other API process within one second");
        status.Should().Be(HttpStatusCode.Unauthorized);
        revocationPropagation.Should().BeLessThan(TimeSpan.FromSeconds(1), "a revocation reaches the other API process within one second");
    }
}
