using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using ObjectaLabs.Orleans.Tests.Training;

namespace ObjectaLabs.Orleans.Tests.Models;

/// <summary>Model cards, lifecycle and the default through the real API, on models trained on the sandbox.</summary>
[Collection(ApiCollection.Name)]
public sealed class ModelsApiTests(ApiFixture fixture)
{
    [Fact]
    public async Task Cards_lifecycle_and_the_default_through_the_api_and_another_organizations_model_is_not_found()
    {
        var (org, client) = await TrainingJobsApiTests.OrganizationWithValidatedExamplesAsync(fixture, "business", 10);
        var (other, otherClient) = await TrainingJobsApiTests.OrganizationWithValidatedExamplesAsync(fixture, "business", 10);
        var jobId = Guid.NewGuid();
        await (await client.PostAsJsonAsync($"/v1/organizations/{org}/training-jobs", new { id = jobId, name = "Support", baseModel = "sandbox/sandbox-small" })).ReadJsonAsync(HttpStatusCode.Created);
        var modelId = (await TrainingJobsApiTests.FinishedAsync(client, org, jobId)).GetProperty("modelId").GetGuid();
        var url = $"/v1/organizations/{org}/models/{modelId}";

        var card = await (await client.GetAsync(url)).ReadJsonAsync();
        var setDefault = await (await client.PutAsJsonAsync($"/v1/organizations/{org}/models/default", new { modelId })).ReadJsonAsync();
        var described = await (await client.PatchAsJsonAsync(url, new { name = "Support EMEA", description = "Tickets from EMEA." })).ReadJsonAsync();
        var deprecated = await (await client.PatchAsJsonAsync(url, new { status = "deprecated" })).ReadJsonAsync();
        var retiredByHand = await (await client.PatchAsJsonAsync(url, new { status = "retired" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var unknownStatus = await (await client.PatchAsJsonAsync(url, new { status = "gone" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        var archived = await (await client.PatchAsJsonAsync(url, new { status = "archived" })).ReadJsonAsync();
        var toDeprecated = await (await client.PatchAsJsonAsync(url, new { status = "deprecated" })).ShouldBeProblemAsync(HttpStatusCode.Conflict);
        var defaultAfter = await (await client.GetAsync($"/v1/organizations/{org}/models/default")).ReadJsonAsync();
        var otherSees = await otherClient.GetAsync($"/v1/organizations/{other}/models/{modelId}");
        var otherChanges = await otherClient.PatchAsJsonAsync($"/v1/organizations/{other}/models/{modelId}", new { status = "deleted" });
        var otherDefault = await otherClient.PutAsJsonAsync($"/v1/organizations/{other}/models/default", new { modelId });
        var deleted = await (await client.PatchAsJsonAsync(url, new { status = "deleted" })).ReadJsonAsync();
        var listed = await (await client.GetAsync($"/v1/organizations/{org}/models")).ReadJsonAsync();
        var listedAll = await (await client.GetAsync($"/v1/organizations/{org}/models?includeDeleted=true")).ReadJsonAsync();

        card.GetProperty("model").GetProperty("status").GetString().Should().Be("active");
        card.GetProperty("warnings").GetArrayLength().Should().Be(0);
        card.GetProperty("usage").GetProperty("requests").GetInt64().Should().Be(0, "no usage was reported");
        setDefault.GetProperty("modelId").GetGuid().Should().Be(modelId);
        described.GetProperty("model").GetProperty("name").GetString().Should().Be("Support EMEA");
        described.GetProperty("model").GetProperty("description").GetString().Should().Be("Tickets from EMEA.");
        described.GetProperty("isDefault").GetBoolean().Should().BeTrue();
        deprecated.GetProperty("warnings")[0].GetString().Should().StartWith("Deprecated");
        deprecated.GetProperty("isDefault").GetBoolean().Should().BeTrue("a deprecated default still serves");
        retiredByHand.GetProperty("field").GetString().Should().Be("status");
        unknownStatus.GetProperty("detail").GetString().Should().Contain("status");
        archived.GetProperty("isDefault").GetBoolean().Should().BeFalse("an archived model serves no more, so it is no longer the default");
        toDeprecated.GetProperty("current").GetString().Should().Be("archived");
        defaultAfter.GetProperty("modelId").ValueKind.Should().Be(JsonValueKind.Null);
        otherSees.StatusCode.Should().Be(HttpStatusCode.NotFound);
        otherChanges.StatusCode.Should().Be(HttpStatusCode.NotFound);
        otherDefault.StatusCode.Should().Be(HttpStatusCode.NotFound);
        deleted.GetProperty("model").GetProperty("status").GetString().Should().Be("deleted");
        listed.GetArrayLength().Should().Be(0, "deleted models leave the listing");
        listedAll.GetArrayLength().Should().Be(1);
    }
}
