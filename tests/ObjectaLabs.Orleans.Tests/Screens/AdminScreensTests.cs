using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ObjectaLabs.Orleans.Providers.Sandbox;
using ObjectaLabs.Orleans.Tests.Infrastructure;
using OpenQA.Selenium;

namespace ObjectaLabs.Orleans.Tests.Screens;

/// <summary>
/// The admin screens under /app/ in a real headless Chromium against the real API, silo and PostgreSQL (the sandbox
/// trains in about a second here). Each test signs in as an admin would, through the page; what it cannot see on the
/// page it checks through the API. Screenshots of each screen are saved under TestResults/screens.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class AdminScreensTests(ApiFixture api) : IDisposable
{
    private readonly Browser _browser = new();

    public void Dispose() => _browser.Dispose();

    [Fact]
    public async Task Sign_in_refuses_wrong_revoked_runtime_and_platform_keys_in_words_and_keeps_the_admin_key_in_the_tab_only()
    {
        var (org, admin) = await api.CreateOrganizationAsync(name: "Screens Sign-in Ltd");
        using var client = api.Client(admin);
        var runtime = await NewKeyAsync(client, org, "runtime");
        var revoked = await NewKeyAsync(client, org, "admin");
        (await client.DeleteAsync($"/v1/organizations/{org}/api-keys/{revoked.Split('_')[2]}")).EnsureSuccessStatusCode();
        var wrong = admin[..^5] + "xxxxx";

        Open("/app/");
        var form = _browser.Shown("#sign-in");
        _browser.Driver.FindElement(By.Id("nav")).Displayed.Should().BeFalse("nothing but the sign-in is offered before it");
        _browser.Driver.SwitchTo().ActiveElement().GetAttribute("name").Should().Be("key", "the key field has the focus, so a keyboard user types at once");
        _browser.Screenshot("sign-in");

        SignInExpectingRefusal(wrong).Should().Contain("wrong or has been revoked");
        SignInExpectingRefusal(revoked).Should().Contain("wrong or has been revoked");
        SignInExpectingRefusal(runtime).Should().Contain("needs an 'admin' key").And.Contain("runtime");
        SignInExpectingRefusal(api.AdminKey).Should().Contain("platform key");
        SignInExpectingRefusal("hello").Should().Contain("not an organization key");
        _browser.Driver.FindElement(By.CssSelector("[name=key]")).GetAttribute("aria-invalid").Should().Be("true", "the field at fault is marked");
        form.Displayed.Should().BeTrue();

        // Keyboard only: type the key and press Enter.
        var key = _browser.Driver.FindElement(By.CssSelector("[name=key]"));
        key.Clear();
        key.SendKeys(admin + Keys.Enter);
        _browser.WithText("#who", "Screens Sign-in Ltd");
        _browser.Shown("#models");

        _browser.Script("return sessionStorage.getItem('objectalabs.adminKey');").Should().Be(admin);
        _browser.Script("return localStorage.length;").Should().Be(0L);
        _browser.Script("return document.cookie;").Should().Be("");
        _browser.Driver.Url.Should().NotContain(admin);

        // A reload keeps the tab signed in; signing out forgets the key.
        _browser.Driver.Navigate().Refresh();
        _browser.WithText("#who", "Screens Sign-in Ltd");
        _browser.Driver.FindElement(By.Id("sign-out")).Click();
        _browser.Shown("#sign-in");
        _browser.Script("return sessionStorage.getItem('objectalabs.adminKey');").Should().BeNull();
        _browser.ConsoleErrors().Should().BeEmpty();
    }

    [Fact]
    public async Task Training_data_reports_a_bad_line_stores_the_rest_validates_filters_and_links_the_quality_report_to_the_example_at_fault()
    {
        var (org, admin) = await api.CreateOrganizationAsync(name: "Screens Data Ltd");
        using var client = api.Client(admin);
        SignIn(admin);
        Open("/app/#/data");
        _browser.Shown("#upload-form");
        _browser.WithText("#counts", "0 validated");

        var lines = Enumerable.Range(1, 11).Select(i => Line($"How do I change my delivery address? ({i})", $"Open Orders, choose the order, then Edit address ({i}).")).ToList();
        lines.Add("""{"messages":[{"role":"user","content":"no answer"}]}""");
        var file = Path.Combine(Path.GetTempPath(), $"screens-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllTextAsync(file, string.Join('\n', lines) + "\n");
        try
        {
            // A dry run reports line 12 and stores nothing.
            var upload = _browser.Driver.FindElement(By.Id("upload-form"));
            upload.FindElement(By.CssSelector("[name=file]")).SendKeys(file);
            upload.FindElement(By.CssSelector("[name=dryRun]")).Click();
            upload.FindElement(By.CssSelector("button[type=submit]")).Click();
            var row = _browser.Shown("#upload-report table.upload-issues tr[data-line='12']");
            row.Text.Should().Contain("assistant");
            _browser.WithText("#upload-report", "Dry run");
            (await ListAsync(client, org, "")).GetProperty("counts").GetProperty("pending").GetInt32().Should().Be(0, "a dry run stores nothing");

            // All or nothing (the default) refuses the file, naming the line; storing the valid lines keeps 11.
            upload.FindElement(By.CssSelector("[name=dryRun]")).Click();
            upload.FindElement(By.CssSelector("button[type=submit]")).Click();
            _browser.WithText("#upload-report", "nothing was stored");
            _browser.Shown("#upload-report tr[data-line='12']");
            _browser.Select(upload.FindElement(By.CssSelector("[name=mode]")), "storeValid");
            upload.FindElement(By.CssSelector("button[type=submit]")).Click();
            _browser.WithText("#upload-report", "11 examples stored");
            _browser.Shown("#upload-report tr[data-line='12']");
            _browser.WithText("#counts", "11 pending");
        }
        finally
        {
            File.Delete(file);
        }

        // Add one by hand (with an e-mail address in it), then validate one from its card.
        var add = _browser.Driver.FindElement(By.Id("add-form"));
        add.FindElement(By.CssSelector("[name=user]")).SendKeys("Please write to me at jane.doe@example.com about my refund");
        add.FindElement(By.CssSelector("[name=assistant]")).SendKeys("We will write to you within two days.");
        add.FindElement(By.CssSelector("[name=tags]")).SendKeys("refunds, email");
        add.FindElement(By.CssSelector("button[type=submit]")).Click();
        _browser.WithText("#counts", "12 pending");
        var card = _browser.WithText("#examples article.example", "jane.doe@example.com");
        card.Text.Should().Contain("#refunds").And.Contain("manual");
        Press(card, "Validate");
        _browser.WithText("#counts", "1 validated");
        _browser.WithText("#counts", "11 pending");

        // Markup in the data is shown as text, never run (every element is built from text nodes; the CSP allows no inline script).
        const string markup = "<img src=x onerror=\"window.__pwned=1\"><b>bold?</b>";
        await PostAsync(client, $"/v1/organizations/{org}/examples", new
        {
            example = new { messages = new[] { new { role = "user", content = markup }, new { role = "assistant", content = "<script>window.__pwned=2</script>" } } },
            tags = new[] { "<i>tag</i>" },
        });
        _browser.Driver.Navigate().Refresh();
        var hostile = _browser.WithText("#examples article.example", "<img src=x onerror=");
        hostile.Text.Should().Contain(markup).And.Contain("<script>window.__pwned=2</script>").And.Contain("#<i>tag</i>");
        hostile.FindElements(By.XPath(".//img | .//script | .//i | .//b[text()='bold?']")).Should().BeEmpty("the markup stayed text");
        _browser.Script("return window.__pwned === undefined;").Should().Be(true);
        var hostileId = hostile.GetAttribute("data-example-id");
        (await client.DeleteAsync($"/v1/organizations/{org}/examples/{hostileId}")).EnsureSuccessStatusCode();
        _browser.Driver.Navigate().Refresh();
        _browser.WithText("#counts", "11 pending");

        // Filters: validated only, then a search.
        var filters = _browser.Driver.FindElement(By.Id("filters"));
        _browser.Select(filters.FindElement(By.CssSelector("[name=validation]")), "validated");
        filters.FindElement(By.CssSelector("button[type=submit]")).Click();
        _browser.WaitFor(d => d.FindElements(By.CssSelector("#examples article.example")).Count == 1, "one validated example listed");
        _browser.Driver.FindElement(By.CssSelector("#examples article.example")).GetAttribute("data-validated").Should().Be("true");
        _browser.Select(filters.FindElement(By.CssSelector("[name=validation]")), "");
        filters.FindElement(By.CssSelector("[name=q]")).SendKeys("delivery");
        filters.FindElement(By.CssSelector("button[type=submit]")).Click();
        _browser.WaitFor(d => d.FindElements(By.CssSelector("#examples article.example")).Count == 11, "the 11 delivery examples listed");

        // The quality report names the personal data and links to its example.
        var quality = _browser.Driver.FindElement(By.Id("quality"));
        quality.FindElement(By.CssSelector("button[type=submit]")).Click();
        _browser.WithText("#quality-report", "email at $.messages[0].content");
        _browser.WithText("#quality-report", "fine-tuning is not advised");
        quality.FindElements(By.CssSelector("#quality-report dd a")).First().Click();
        _browser.WithText("#focus", "jane.doe@example.com");
        _browser.Screenshot("training-data");

        // Remove asks first; the example is then gone from the API too.
        var id = _browser.Driver.FindElement(By.CssSelector("#focus article.example")).GetAttribute("data-example-id");
        Press(_browser.Driver.FindElement(By.CssSelector("#focus article.example")), "Remove");
        _browser.Driver.SwitchTo().Alert().Accept();
        await Eventually.Async(async () => (await client.GetAsync($"/v1/organizations/{org}/examples/{id}")).StatusCode == System.Net.HttpStatusCode.NotFound, TimeSpan.FromSeconds(10), "the removed example is gone");
        _browser.ConsoleErrors().Should().BeEmpty();
    }

    [Fact]
    public async Task Conversations_rated_high_enough_are_imported_and_an_edited_example_loses_its_validation()
    {
        var (org, admin) = await api.CreateOrganizationAsync(name: "Screens Import Ltd");
        using var client = api.Client(admin);
        var agent = (await PostAsync(client, $"/v1/organizations/{org}/agents", new { name = "Desk bot" })).GetProperty("id").GetString()!;
        foreach (var (question, rating) in new[] { ("Can I pay by invoice?", 5), ("Why is the sky blue?", 2) })
        {
            await PostAsync(client, $"/v1/organizations/{org}/conversations", new
            {
                agentId = agent,
                rating,
                startedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
                endedAt = DateTimeOffset.UtcNow.AddMinutes(-1),
                messages = new[] { new { role = "user", content = question }, new { role = "assistant", content = $"Answer to: {question}" } },
            });
        }
        SignIn(admin);
        Open("/app/#/data");
        var import = _browser.Shown("#import-form");
        _browser.Select(import.FindElement(By.CssSelector("[name=agentId]")), agent);
        _browser.Select(import.FindElement(By.CssSelector("[name=minRating]")), "4");
        import.FindElement(By.CssSelector("button[type=submit]")).Click();
        _browser.WithText("#import-form .import-report", "1 conversation matched: 1 example created");
        _browser.WithText("#counts", "1 pending");
        var card = _browser.WithText("#examples article.example", "Can I pay by invoice?");
        card.Text.Should().NotContain("sky blue");
        Press(card, "Validate");
        _browser.WithText("#counts", "1 validated");

        // Edit the answer: the API clears the validation of changed content, and the card says so.
        card = _browser.WithText("#examples article.example", "Can I pay by invoice?");
        Press(card, "Edit");
        var answer = _browser.Shown("#examples form.edit [name='content-1']");
        answer.Clear();
        answer.SendKeys("Yes: choose Invoice at checkout.");
        _browser.Driver.FindElement(By.CssSelector("#examples form.edit button[type=submit]")).Click();
        _browser.WithText("#examples article.example", "Yes: choose Invoice at checkout.");
        _browser.WithText("#counts", "0 validated");
        var stored = (await ListAsync(client, org, "")).GetProperty("items")[0];
        stored.GetProperty("isValidated").GetBoolean().Should().BeFalse();
        stored.GetProperty("example").GetProperty("messages")[1].GetProperty("content").GetString().Should().Be("Yes: choose Invoice at checkout.");
        _browser.ConsoleErrors().Should().BeEmpty();
    }

    [Fact]
    public async Task Dashboard_estimates_trains_on_the_sandbox_to_a_model_card_and_deprecates_it_offering_only_the_plans_base_models()
    {
        var (org, admin) = await api.CreateOrganizationAsync(name: "Screens Training Ltd");
        using var client = api.Client(admin);
        await SeedValidatedAsync(client, org, 12, "reset my password");
        SignIn(admin);
        var create = _browser.Shown("#create-form");

        // The plan decides the base models: Business has no gpt-4o, and the option says why.
        _browser.Select(create.FindElement(By.CssSelector("[name=provider]")), "openai");
        var gpt4o = create.FindElements(By.CssSelector("[name=baseModel] option")).Single(o => o.GetAttribute("value") == "openai/gpt-4o-2024-08-06");
        gpt4o.Enabled.Should().BeFalse();
        gpt4o.Text.Should().Contain("not in the Business plan");
        _browser.Select(create.FindElement(By.CssSelector("[name=provider]")), "sandbox");
        _browser.Select(create.FindElement(By.CssSelector("[name=baseModel]")), "sandbox/sandbox-small");

        // A bad value is refused by the API and shown with its field.
        var epochs = create.FindElement(By.CssSelector("[name=epochs]"));
        epochs.SendKeys("500");
        Press(create, "Estimate cost");
        _browser.WithText("#create-form .form-error", "epochs");
        epochs.GetAttribute("aria-invalid").Should().Be("true");
        epochs.Clear();

        Press(create, "Estimate cost");
        _browser.WithText("#create-form .total-cost", "$0.00");
        _browser.WithText("#create-form .estimate", "Monthly projection");
        _browser.WithText("#create-form .estimate", "10 training, 2 validation");
        var start = create.FindElement(By.CssSelector("button[type=submit]"));
        start.Enabled.Should().BeTrue("the estimate was seen");
        start.Click();
        _browser.WithText("#notice", "Training started");

        var card = _browser.WithText("#models article.model-card", "Customer Support Model", seconds: 60);
        card.Text.Should().Contain("v1").And.Contain("sandbox/sandbox-small").And.Contain("active").And.Contain("simulated");
        card.FindElement(By.CssSelector(".requests")).Text.Should().Be("0");
        _browser.WithText("#jobs table.jobs", "succeeded");
        var jobs = await GetAsync(client, $"/v1/organizations/{org}/training-jobs");
        jobs.GetProperty("jobs").GetArrayLength().Should().Be(1, "one click, one job");
        _browser.Screenshot("dashboard");

        Press(card, "View metrics");
        _browser.WithText("#models article.model-card .metrics", "Last 24 hours");
        card.FindElement(By.CssSelector(".metrics")).Text.Should().Contain("Success rate").And.Contain("p50 / p95 / p99");

        Press(card, "Deprecate");
        _browser.WithText("#models article.model-card .badge", "deprecated");
        var models = await GetAsync(client, $"/v1/organizations/{org}/models");
        models[0].GetProperty("model").GetProperty("status").GetString().Should().Be("deprecated");
        _browser.ConsoleErrors().Should().BeEmpty();
    }

    [Fact]
    public async Task A_running_job_shows_its_progress_and_loss_chart_and_is_cancelled_from_its_card()
    {
        var (org, admin) = await api.CreateOrganizationAsync(name: "Screens Cancel Ltd");
        using var client = api.Client(admin);
        await SeedValidatedAsync(client, org, 12, "renew my plan");
        // The sandbox's slow switch (in the suffix) keeps the job running long enough to watch and cancel.
        var job = await PostAsync(client, $"/v1/organizations/{org}/training-jobs",
            new { name = "Slow Model", baseModel = "sandbox/sandbox-small", validationRatio = 0.2, suffix = SandboxProvider.SlowSwitch });
        var id = job.GetProperty("id").GetString();

        SignIn(admin);
        var card = _browser.WithText("#jobs article.job", "running", seconds: 30);
        _browser.WaitFor(d => d.FindElements(By.CssSelector("#jobs article.job .loss-chart polyline.train")).Count == 1, "the loss chart's training line");
        card = _browser.Shown("#jobs article.job");
        card.Text.Should().Contain("Slow Model").And.Contain("10 training, 2 validation").And.Contain("step");
        _browser.Screenshot("dashboard-running-job");

        Press(card, "Cancel");
        _browser.Driver.SwitchTo().Alert().Text.Should().Contain("Slow Model");
        _browser.Driver.SwitchTo().Alert().Accept();
        _browser.WithText("#jobs table.jobs", "cancelled", seconds: 30);
        (await GetAsync(client, $"/v1/organizations/{org}/training-jobs/{id}")).GetProperty("status").GetString().Should().Be("cancelled");
        (await GetAsync(client, $"/v1/organizations/{org}/models")).GetArrayLength().Should().Be(0, "a cancelled job registers no model");
        _browser.ConsoleErrors().Should().BeEmpty();
    }

    [Fact]
    public async Task A_free_organization_sees_why_it_cannot_fine_tune()
    {
        var (_, admin) = await api.CreateOrganizationAsync(plan: "free", name: "Screens Free Ltd");
        SignIn(admin);
        _browser.WithText("#create-model", "does not include fine-tuning");
        _browser.Driver.FindElements(By.Id("create-form")).Should().BeEmpty();
    }

    [Fact]
    public async Task Experiments_deploy_start_with_a_split_show_the_verdict_refuse_a_bad_share_by_field_and_stop()
    {
        var (org, admin) = await api.CreateOrganizationAsync(name: "Screens Experiments Ltd");
        using var client = api.Client(admin);
        var agent = await PostAsync(client, $"/v1/organizations/{org}/agents", new { name = "Support bot", defaultBaseModel = "openai/gpt-4o-mini-2024-07-18" });
        var agentId = agent.GetProperty("id").GetString();
        await SeedValidatedAsync(client, org, 12, "track my parcel");
        var model = await TrainAsync(client, org);

        SignIn(admin);
        Open("/app/#/experiments");
        var deploy = _browser.WithText("#deploy-form", "not deployed yet");
        _browser.Select(deploy.FindElement(By.CssSelector("[name=model]")), "base:openai/gpt-4o-mini-2024-07-18");
        deploy.FindElement(By.CssSelector("button[type=submit]")).Click();
        var start = _browser.Shown("#start-experiment");

        var share = start.FindElement(By.CssSelector("[name=candidateShare]"));
        share.Clear();
        share.SendKeys("150");
        start.FindElement(By.CssSelector("button[type=submit]")).Click();
        _browser.WithText("#start-experiment .form-error", "candidateShare");
        (await GetAsync(client, $"/v1/organizations/{org}/agents/{agentId}/deployment")).GetProperty("experiment").ValueKind.Should().Be(JsonValueKind.Null, "a refusal changes nothing");

        start = _browser.Shown("#start-experiment");
        _browser.Select(start.FindElement(By.CssSelector("[name=candidate]")), $"model:{model}");
        share = start.FindElement(By.CssSelector("[name=candidateShare]"));
        share.Clear();
        share.SendKeys("30");
        start.FindElement(By.CssSelector("button[type=submit]")).Click();
        var running = _browser.WithText("#running-experiment", "Not enough data yet");
        running.Text.Should().Contain("30 % to the candidate");
        var deployment = await GetAsync(client, $"/v1/organizations/{org}/agents/{agentId}/deployment");
        deployment.GetProperty("experiment").GetProperty("candidate").GetProperty("modelId").GetString().Should().Be(model);
        deployment.GetProperty("experiment").GetProperty("candidateShare").GetDouble().Should().Be(0.3);
        _browser.Screenshot("experiments");

        Press(running, "Stop experiment");
        _browser.Driver.SwitchTo().Alert().Accept();
        _browser.WithText("#past-experiments", "stopped");
        deployment = await GetAsync(client, $"/v1/organizations/{org}/agents/{agentId}/deployment");
        deployment.GetProperty("experiment").ValueKind.Should().Be(JsonValueKind.Null);
        deployment.GetProperty("pastExperiments").GetArrayLength().Should().Be(1);

        // Again, and promote: the candidate becomes the agent's model.
        start = _browser.Shown("#start-experiment");
        _browser.Select(start.FindElement(By.CssSelector("[name=candidate]")), $"model:{model}");
        start.FindElement(By.CssSelector("button[type=submit]")).Click();
        running = _browser.Shown("#running-experiment");
        Press(running, "Promote candidate");
        _browser.WithText("#notice", "Candidate promoted");
        _browser.WithText("#deploy-form", "Serving Parcel Model v1");
        deployment = await GetAsync(client, $"/v1/organizations/{org}/agents/{agentId}/deployment");
        deployment.GetProperty("model").GetProperty("modelId").GetString().Should().Be(model);
        deployment.GetProperty("pastExperiments").GetArrayLength().Should().Be(2);
        _browser.ConsoleErrors().Should().BeEmpty();
    }

    [Fact]
    public async Task An_admin_adds_the_first_agent_and_puts_a_trained_model_in_it_from_its_card()
    {
        var (org, admin) = await api.CreateOrganizationAsync(name: "Screens Agents Ltd");
        using var client = api.Client(admin);
        await SeedValidatedAsync(client, org, 12, "book a table");
        var model = await TrainAsync(client, org);

        SignIn(admin);
        Open("/app/#/experiments");
        var add = _browser.Shown("#add-agent");
        _browser.Driver.FindElement(By.TagName("main")).Text.Should().Contain("No agent yet");
        add.FindElement(By.CssSelector("button[type=submit]")).Click();
        _browser.WithText("#add-agent .form-error", "name");
        add.FindElement(By.CssSelector("[name=name]")).GetAttribute("aria-invalid").Should().Be("true");
        (await GetAsync(client, $"/v1/organizations/{org}/agents")).GetArrayLength().Should().Be(0, "a refusal changes nothing");

        add.FindElement(By.CssSelector("[name=name]")).SendKeys("Booking bot");
        add.FindElement(By.CssSelector("button[type=submit]")).Click();
        _browser.WithText("#deploy-form", "not deployed yet");
        var agents = await GetAsync(client, $"/v1/organizations/{org}/agents");
        agents.GetArrayLength().Should().Be(1);
        var agentId = agents[0].GetProperty("id").GetString()!;
        agents[0].GetProperty("defaultBaseModel").GetString().Should().Be("openai/gpt-4o-mini-2024-07-18");

        // From the model's card: use it in the new agent.
        Open("/app/#/dashboard");
        var card = _browser.WithText("#models article.model-card", "Parcel Model");
        _browser.Select(card.FindElement(By.CssSelector("[name=agentId]")), agentId);
        Press(card, "Use in agent");
        _browser.WithText("#notice", "Booking bot now uses Parcel Model v1");
        (await GetAsync(client, $"/v1/organizations/{org}/agents/{agentId}/deployment")).GetProperty("model").GetProperty("modelId").GetString().Should().Be(model);
        Open("/app/#/experiments");
        _browser.WithText("#deploy-form", "Serving Parcel Model v1");
        _browser.ConsoleErrors().Should().BeEmpty();
    }

    [Fact]
    public async Task Another_organizations_data_is_never_shown_and_a_forged_key_signs_the_tab_out()
    {
        var (orgA, adminA) = await api.CreateOrganizationAsync(name: "Screens Alpha Ltd");
        using var clientA = api.Client(adminA);
        await SeedValidatedAsync(clientA, orgA, 3, "ALPHA-SECRET question");
        var (orgB, adminB) = await api.CreateOrganizationAsync(name: "Screens Beta Ltd");

        SignIn(adminB);
        _browser.WithText("#models", "No fine-tuned model yet");
        Open("/app/#/data");
        _browser.WithText("#counts", "0 validated");
        _browser.Driver.FindElement(By.TagName("body")).Text.Should().NotContain("ALPHA-SECRET").And.NotContain("Screens Alpha");

        // B's key id and secret under A's organization id: the API refuses it, and the tab signs out.
        var parts = adminB.Split('_');
        var forged = $"olk_{orgA:N}_{parts[2]}_{parts[3]}";
        _browser.Script("sessionStorage.setItem('objectalabs.adminKey', arguments[0]);", forged);
        _browser.Driver.Navigate().Refresh();
        _browser.WithText("#sign-in .form-error", "Signed out");
        _browser.Driver.FindElement(By.TagName("body")).Text.Should().NotContain("ALPHA-SECRET");
        _browser.Script("return sessionStorage.getItem('objectalabs.adminKey');").Should().BeNull();
        orgB.Should().NotBe(orgA);
    }

    [Fact]
    public async Task The_screens_fit_a_phone_width_screen()
    {
        var (org, admin) = await api.CreateOrganizationAsync(name: "Screens Phone Ltd");
        using var client = api.Client(admin);
        await SeedValidatedAsync(client, org, 2, "opening hours");
        using var phone = new Browser(390, 844);
        phone.Driver.Navigate().GoToUrl(new Uri(api.BaseAddress, "/app/"));
        phone.Shown("#sign-in [name=key]").SendKeys(admin + Keys.Enter);
        phone.Shown("#create-form");
        foreach (var (route, name) in new[] { ("#/dashboard", "dashboard-phone"), ("#/data", "training-data-phone"), ("#/experiments", "experiments-phone") })
        {
            phone.Driver.Navigate().GoToUrl(new Uri(api.BaseAddress, "/app/" + route));
            phone.Shown(route == "#/data" ? "#examples article.example" : route == "#/dashboard" ? "#create-form" : "main h1");
            var overflow = Convert.ToInt64(phone.Script("return document.documentElement.scrollWidth - window.innerWidth;"));
            var widest = phone.Script("""
                return [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > window.innerWidth)
                  .map(e => `${e.tagName}.${e.className}[${e.getAttribute('name') ?? ''}] ${Math.round(e.getBoundingClientRect().right)}px`).slice(0, 5).join('; ');
                """);
            overflow.Should().BeLessThanOrEqualTo(0, $"{route} fits 390 px without scrolling sideways (too wide: {widest})");
            phone.Screenshot(name);
        }
        phone.ConsoleErrors().Should().BeEmpty();
    }

    /// <summary>Clicks the one button labelled <paramref name="label"/> inside <paramref name="within"/>.</summary>
    private static void Press(ISearchContext within, string label) =>
        within.FindElements(By.CssSelector("button")).Single(b => b.Text == label).Click();

    private void SignIn(string key)
    {
        Open("/app/");
        _browser.Shown("#sign-in [name=key]").SendKeys(key + Keys.Enter);
        _browser.Shown("#models");
    }

    private static string Line(string question, string answer) =>
        JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = question }, new { role = "assistant", content = answer } } });

    /// <summary>Examples uploaded and validated through the API (what the screens are not being tested for here).</summary>
    private static async Task SeedValidatedAsync(HttpClient client, Guid org, int count, string topic)
    {
        var body = string.Join('\n', Enumerable.Range(1, count).Select(i => Line($"How do I {topic}? ({i})", $"Here is how to {topic}, step {i}.")));
        using var content = new StringContent(body, Encoding.UTF8, "application/jsonl");
        (await client.PostAsync($"/v1/organizations/{org}/examples/uploads", content)).EnsureSuccessStatusCode();
        var ids = (await ListAsync(client, org, "&validation=pending")).GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetGuid()).ToList();
        await PostAsync(client, $"/v1/organizations/{org}/examples/validation", new { ids, qualityScore = 0.9 });
    }

    private static async Task<string> TrainAsync(HttpClient client, Guid org)
    {
        var job = await PostAsync(client, $"/v1/organizations/{org}/training-jobs", new { name = "Parcel Model", baseModel = "sandbox/sandbox-small", validationRatio = 0.2 });
        var id = job.GetProperty("id").GetString();
        string? model = null;
        await Eventually.Async(async () =>
        {
            var current = await GetAsync(client, $"/v1/organizations/{org}/training-jobs/{id}");
            model = current.GetProperty("modelId").GetString();
            return current.GetProperty("status").GetString() == "succeeded" && model is not null;
        }, TimeSpan.FromSeconds(60), "the sandbox job succeeds");
        return model!;
    }

    private static Task<JsonElement> ListAsync(HttpClient client, Guid org, string query) =>
        GetAsync(client, $"/v1/organizations/{org}/examples?limit=200{query}");

    private static async Task<JsonElement> GetAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<JsonElement> PostAsync(HttpClient client, string path, object body)
    {
        var response = await client.PostAsJsonAsync(path, body);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private string SignInExpectingRefusal(string key)
    {
        var input = _browser.Shown("#sign-in [name=key]");
        input.Clear();
        input.SendKeys(key);
        _browser.Driver.FindElement(By.CssSelector("#sign-in button[type=submit]")).Click();
        var error = _browser.WaitFor(d => d.FindElements(By.CssSelector("#sign-in .form-error")).FirstOrDefault(e => e.Displayed && e.Text.Length > 0), "a refusal");
        var text = error.Text;
        // The next attempt must show its own message, not this one.
        _browser.Script("document.querySelector('#sign-in .form-error').textContent = '';");
        return text;
    }

    private void Open(string path) => _browser.Driver.Navigate().GoToUrl(new Uri(api.BaseAddress, path));

    private static async Task<string> NewKeyAsync(HttpClient client, Guid org, string scope)
    {
        var response = await client.PostAsJsonAsync($"/v1/organizations/{org}/api-keys", new { name = scope, scope });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }
}
