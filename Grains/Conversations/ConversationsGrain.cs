using ObjectaLabs.Orleans.Examples;
using ObjectaLabs.Orleans.Organizations;
using ObjectaLabs.Orleans.Problems;
using Orleans.Concurrency;

namespace ObjectaLabs.Orleans.Conversations;

/// <summary>An organization's conversations (key: organization id); stateless, every statement scoped by the key.</summary>
[StatelessWorker]
public sealed class ConversationsGrain(
    ConversationRows conversations,
    ConversationImporter importer,
    TimeProvider clock,
    ILogger<ConversationsGrain> logger) : Grain, IConversationsGrain
{
    private static readonly HashSet<string> Roles = ["system", "user", "assistant", "tool", "function"];
    private const int MaxMessages = 1000;

    private Guid OrganizationId => this.GetPrimaryKey();

    public async Task<ConversationRecorded> RecordAsync(NewConversation conversation)
    {
        if (conversation.Messages is not { Count: > 0 and <= MaxMessages })
        {
            throw ProblemException.Invalid("messages", $"A conversation has between 1 and {MaxMessages} messages.");
        }
        for (var i = 0; i < conversation.Messages.Count; i++)
        {
            if (!Roles.Contains(conversation.Messages[i].Role ?? ""))
            {
                throw ProblemException.Invalid($"messages[{i}].role", "Role must be system, user, assistant, tool or function.");
            }
        }
        if (conversation.Rating is < 1 or > 5)
        {
            throw ProblemException.Invalid("rating", "'rating' must be between 1 and 5.");
        }
        if (conversation.StartedAt > conversation.EndedAt)
        {
            throw ProblemException.Invalid("startedAt", "'startedAt' must not be after 'endedAt'.");
        }
        var plan = await GrainFactory.GetGrain<IOrganizationGrain>(OrganizationId).GetPlanAsync(); // refuses unknown organizations
        var recorded = await conversations.InsertAsync(OrganizationId, Guid.CreateVersion7(clock.GetUtcNow()), conversation, plan);
        logger.LogDebug("Conversation {ConversationId} recorded for agent {AgentId} (new: {Created})", recorded.Id, conversation.AgentId, recorded.Created);
        return recorded;
    }

    public async Task<ConversationImportReport> ImportAsync(ConversationImportRequest request)
    {
        var plan = await GrainFactory.GetGrain<IOrganizationGrain>(OrganizationId).GetPlanAsync();
        var report = await importer.ImportAsync(OrganizationId, request with { Tags = ExampleProblems.Tags(request.Tags) }, ExampleLimits.For(plan), clock.GetUtcNow());
        logger.LogInformation("Organization {OrganizationId} imported {Created} examples from {Conversations} conversations ({Already} already imported)",
            OrganizationId, report.Created, report.Conversations, report.AlreadyImported);
        return report;
    }
}
