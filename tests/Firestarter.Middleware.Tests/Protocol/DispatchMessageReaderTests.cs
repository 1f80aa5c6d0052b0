using System.Text;
using System.Text.Json;
using Firestarter.Matching;
using Firestarter.Protocol;
using Firestarter.Tests.TestSupport;

namespace Firestarter.Tests.Protocol;

public class DispatchMessageReaderTests
{
    private const int MaxDepth = 64;
    private const string CpuPath = "dequeuedMessage.run.machine.cpu";
    private const string MemoryPath = "dequeuedMessage.run.machine.memory";
    private const string FriendlyIdPath = "dequeuedMessage.deployment.friendlyId";
    private const string VersionPath = "dequeuedMessage.backgroundWorker.version";

    private static readonly MatchKey ExpectedKey = new(DispatchBodies.Deployment, DispatchBodies.Version, DispatchBodies.Cpu, DispatchBodies.Memory);

    private static DispatchMessage Read(string json, int maxDepth = MaxDepth) => Read(DispatchBodies.Utf8(json), maxDepth);

    private static DispatchMessage Read(byte[] body, int maxDepth = MaxDepth)
    {
        Assert.True(DispatchMessageReader.TryRead(body, maxDepth, out var message, out var problem), problem);
        Assert.Null(problem);
        return message;
    }

    private static string Refuse(string json, int maxDepth = MaxDepth) => Refuse(DispatchBodies.Utf8(json), maxDepth);

    private static string Refuse(byte[] body, int maxDepth = MaxDepth)
    {
        Assert.False(DispatchMessageReader.TryRead(body, maxDepth, out _, out var problem));
        Assert.False(string.IsNullOrWhiteSpace(problem));
        return problem!;
    }

    [Fact]
    public void Reads_the_four_match_fields_of_a_realistic_dispatch()
    {
        var message = Read(DispatchBodies.Valid);

        Assert.Equal(ExpectedKey, message.Key);
        Assert.Equal(DispatchBodies.Deployment, message.Key.Deployment);
        Assert.Equal(DispatchBodies.Version, message.Key.Version);
        Assert.Equal(0.5, message.Key.Cpu);
        Assert.Equal(1, message.Key.Memory);
    }

    [Theory]
    [InlineData("""{"deployment":{"friendlyId":"deployment_abc"},"backgroundWorker":{"version":"20240101.1"},"run":{"machine":{"cpu":0.5,"memory":1}}}""")]
    [InlineData("""{"run":{"machine":{"memory":1,"cpu":0.5}},"backgroundWorker":{"version":"20240101.1"},"deployment":{"friendlyId":"deployment_abc"}}""")]
    [InlineData("""{"backgroundWorker":{"version":"20240101.1"},"run":{"machine":{"cpu":0.5,"memory":1}},"deployment":{"friendlyId":"deployment_abc"}}""")]
    [InlineData("""{"run":{"machine":{"memory":1,"cpu":0.5},"friendlyId":"r"},"deployment":{"id":"x","friendlyId":"deployment_abc"},"backgroundWorker":{"id":"y","version":"20240101.1"}}""")]
    public void Field_order_does_not_matter(string message)
    {
        Assert.Equal(ExpectedKey, Read(DispatchBodies.Wrap(message)).Key);
    }

    [Fact]
    public void The_dequeued_message_may_come_after_other_top_level_members()
    {
        var body = $$$"""{"first":1,"deployment":{"friendlyId":"decoy"},"run":{"machine":{"cpu":9,"memory":9}},"dequeuedMessage":{{{DispatchBodies.Message}}},"last":[1,2,{"x":null}]}""";

        Assert.Equal(ExpectedKey, Read(body).Key);
    }

    [Fact]
    public void Unknown_members_anywhere_are_skipped_even_when_named_like_match_fields()
    {
        // Decoys at every other depth: a "run" inside "snapshot", "cpu" on run rather than machine,
        // "friendlyId" and "version" on the wrong objects, match-shaped objects inside arrays.
        const string Message = """
            {
              "friendlyId": "decoy-1",
              "version": "decoy-2",
              "cpu": 99,
              "snapshot": {
                "run": {"friendlyId": "run_decoy", "machine": {"cpu": 99, "memory": 99}},
                "deployment": {"friendlyId": "decoy-3"},
                "backgroundWorker": {"version": "decoy-4"}
              },
              "items": [
                {"run": {"machine": {"cpu": 98}}},
                {"deployment": {"friendlyId": "decoy-5"}},
                [[{"backgroundWorker": {"version": "decoy-6"}}]]
              ],
              "deployment": {
                "backgroundWorker": {"version": "decoy-7"},
                "version": "decoy-8",
                "run": {"machine": {"cpu": 97}},
                "friendlyId": "deployment_abc",
                "nested": {"friendlyId": "decoy-9"}
              },
              "backgroundWorker": {
                "deployment": {"friendlyId": "decoy-10"},
                "friendlyId": "decoy-11",
                "versions": ["decoy-12"],
                "version": "20240101.1",
                "meta": {"version": "decoy-13"}
              },
              "run": {
                "cpu": 96,
                "memory": 96,
                "snapshot": {"machine": {"cpu": 95, "memory": 95}},
                "machine": {
                  "name": "small-1x",
                  "preset": {"cpu": 94, "memory": 94},
                  "cpu": 0.5,
                  "limits": [{"memory": 93}],
                  "memory": 1
                },
                "machines": [{"cpu": 92}]
              },
              "trailing": {"dequeuedMessage": {"deployment": {"friendlyId": "decoy-14"}}}
            }
            """;

        var message = Read(DispatchBodies.Wrap(Message));

        Assert.Equal(ExpectedKey, message.Key);
    }

    [Fact]
    public void A_dequeued_message_nested_inside_another_member_is_not_the_dispatch()
    {
        var body = $$$"""{"envelope":{"dequeuedMessage":{{{DispatchBodies.Message}}}}}""";

        Assert.Equal("The body has no 'dequeuedMessage' property.", Refuse(body));
    }

    [Fact]
    public void Member_names_written_with_escapes_are_recognised()
    {
        const string Body = """
            {"dequeued\u004Dessage":{"\u0064eployment":{"\u0066riendly\u0049d":"deployment_abc"},"background\u0057orker":{"ver\u0073ion":"20240101.1"},"r\u0075n":{"mac\u0068ine":{"\u0063\u0070\u0075":0.5,"memor\u0079":1}}}}
            """;

        Assert.Equal(ExpectedKey, Read(Body).Key);
    }

    [Theory]
    [InlineData("\"dep\\\"quoted\\\\back\\u00e9\"", "dep\"quoted\\backé")]
    [InlineData("\"\\u0064eployment_abc\"", "deployment_abc")]
    [InlineData("\"a\\/b\\tc\\nd\"", "a/b\tc\nd")]
    [InlineData("\"déploiement-部署-🚀\"", "déploiement-部署-🚀")]
    [InlineData("\"\\ud83d\\ude80\"", "🚀")]
    public void String_values_are_unescaped_and_unicode_is_kept(string rawJson, string expected)
    {
        var message = Read(DispatchBodies.WithFields(friendlyId: rawJson, version: rawJson));

        Assert.Equal(expected, message.Key.Deployment);
        Assert.Equal(expected, message.Key.Version);
    }

    [Fact]
    public void An_escaped_and_a_raw_spelling_of_the_same_deployment_give_equal_keys()
    {
        var escaped = Read(DispatchBodies.WithFields(friendlyId: "\"d\\u00e9p\""));
        var raw = Read(DispatchBodies.WithFields(friendlyId: "\"dép\""));

        Assert.Equal(raw.Key, escaped.Key);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("1.0")]
    [InlineData("1e0")]
    [InlineData("1E0")]
    [InlineData("1E+0")]
    [InlineData("10e-1")]
    [InlineData("1.000")]
    public void Sizes_are_read_as_numbers_whatever_their_spelling_one(string spelling)
    {
        var message = Read(DispatchBodies.WithFields(cpu: spelling, memory: spelling));

        Assert.Equal(new MatchKey(DispatchBodies.Deployment, DispatchBodies.Version, 1, 1), message.Key);
    }

    [Theory]
    [InlineData("0.25")]
    [InlineData("2.5E-1")]
    [InlineData("2.5e-1")]
    [InlineData("25e-2")]
    [InlineData("0.250")]
    public void Sizes_are_read_as_numbers_whatever_their_spelling_a_quarter(string spelling)
    {
        var message = Read(DispatchBodies.WithFields(cpu: spelling, memory: spelling));

        Assert.Equal(new MatchKey(DispatchBodies.Deployment, DispatchBodies.Version, 0.25, 0.25), message.Key);
    }

    [Fact]
    public void A_dispatch_key_equals_the_key_a_controller_sends_in_its_headers()
    {
        var dispatched = Read(DispatchBodies.WithFields(cpu: "2.5E-1", memory: "1e0")).Key;
        Assert.True(MatchKey.TryParseMachineSize("0.25", out var cpu));
        Assert.True(MatchKey.TryParseMachineSize("1", out var memory));

        var polled = new MatchKey(DispatchBodies.Deployment, DispatchBodies.Version, cpu, memory);

        Assert.Equal(polled, dispatched);
        Assert.Equal(polled.GetHashCode(), dispatched.GetHashCode());
    }

    [Fact]
    public void Negative_zero_sizes_are_accepted_as_zero()
    {
        var message = Read(DispatchBodies.WithFields(cpu: "-0", memory: "-0.0"));

        Assert.Equal(new MatchKey(DispatchBodies.Deployment, DispatchBodies.Version, 0, 0), message.Key);
        Assert.False(double.IsNegative(message.Key.Cpu));
    }

    [Fact]
    public void The_message_range_is_exactly_the_raw_bytes_of_the_dequeued_message()
    {
        // Multi-byte characters before the message make byte and char offsets differ; whitespace inside the
        // message, and escapes, must come through untouched.
        const string Message = "{\n  \"run\" : { \"friendlyId\" : \"run_1\" ,\n\t\"machine\":{ \"cpu\" : 0.5 , \"memory\" : 1 } } ,\r\n  \"deployment\":{\"friendlyId\":\"deployment_abc\"},  \"note\": \"h\\u00e9llo \\\"q\\\" ✓\",\n  \"backgroundWorker\" : {\"version\":\"20240101.1\"}\n}";
        const string Prefix = "{ \"zzz\": \"héllo 🚀 wörld\" , \"dequeuedMessage\" :\t ";
        const string Suffix = "  ,\n \"after\" : [ 1 , 2 ] }\n";
        var body = DispatchBodies.Utf8(Prefix + Message + Suffix);

        var message = Read(body);

        Assert.Equal(DispatchBodies.Utf8(Message), body.AsSpan()[message.Message].ToArray());
        Assert.Equal(ExpectedKey, message.Key);
    }

    [Fact]
    public void The_message_slice_is_itself_the_whole_dequeued_message_as_json()
    {
        var body = DispatchBodies.Utf8(DispatchBodies.Valid);
        var message = Read(body);

        var slice = body.AsMemory()[message.Message];

        Assert.Equal(DispatchBodies.Utf8(DispatchBodies.Message), slice.ToArray());
        using var parsed = JsonDocument.Parse(slice);
        Assert.Equal("run_1234", parsed.RootElement.GetProperty("run").GetProperty("friendlyId").GetString());
    }

    [Theory]
    [InlineData("""{"friendlyId":"run_1234","id":"run_internal"}""")]
    [InlineData("""{"id":"run_internal","friendlyId":"run_1234"}""")]
    [InlineData("""{"id":"run_internal","machine":{"cpu":0.5,"memory":1},"friendlyId":"run_1234"}""")]
    public void The_run_id_is_the_friendly_id_when_there_is_one(string runMembers)
    {
        var run = runMembers.Contains("machine", StringComparison.Ordinal)
            ? runMembers
            : runMembers.Insert(runMembers.Length - 1, ""","machine":{"cpu":0.5,"memory":1}""");
        var body = DispatchBodies.Utf8(DispatchBodies.Wrap(
            $$"""{"deployment":{"friendlyId":"deployment_abc"},"backgroundWorker":{"version":"20240101.1"},"run":{{run}}}"""));

        var message = Read(body);

        Assert.Equal("run_1234", message.RunIdText(body));
        Assert.Equal("run_1234"u8.ToArray(), body.AsSpan()[message.RunId].ToArray());
    }

    [Fact]
    public void The_run_id_falls_back_to_the_internal_id()
    {
        var body = DispatchBodies.Utf8(DispatchBodies.Wrap(
            """{"deployment":{"friendlyId":"deployment_abc"},"backgroundWorker":{"version":"20240101.1"},"run":{"id":"run_internal","machine":{"cpu":0.5,"memory":1}}}"""));

        Assert.Equal("run_internal", Read(body).RunIdText(body));
    }

    [Fact]
    public void A_friendly_id_that_is_not_a_string_is_ignored_for_the_run_id()
    {
        var body = DispatchBodies.Utf8(DispatchBodies.Wrap(
            """{"deployment":{"friendlyId":"deployment_abc"},"backgroundWorker":{"version":"20240101.1"},"run":{"friendlyId":{"x":1},"id":"run_internal","machine":{"cpu":0.5,"memory":1}}}"""));

        Assert.Equal("run_internal", Read(body).RunIdText(body));
    }

    [Theory]
    [InlineData("""{"machine":{"cpu":0.5,"memory":1}}""")]
    [InlineData("""{"machine":{"cpu":0.5,"memory":1},"friendlyId":42,"id":null}""")]
    [InlineData("""{"machine":{"cpu":0.5,"memory":1},"snapshot":{"friendlyId":"decoy","id":"decoy"}}""")]
    public void Without_a_run_id_the_run_id_text_is_none(string run)
    {
        var body = DispatchBodies.Utf8(DispatchBodies.Wrap(
            $$"""{"deployment":{"friendlyId":"deployment_abc"},"backgroundWorker":{"version":"20240101.1"},"friendlyId":"decoy","run":{{run}}}"""));

        var message = Read(body);

        Assert.Equal("(none)", message.RunIdText(body));
        Assert.True(body.AsSpan()[message.RunId].IsEmpty);
    }

    [Fact]
    public void The_run_id_range_holds_the_raw_still_escaped_text()
    {
        var body = DispatchBodies.Utf8(DispatchBodies.Wrap(
            """{"deployment":{"friendlyId":"deployment_abc"},"backgroundWorker":{"version":"20240101.1"},"run":{"friendlyId":"run_\u00e9\"x","machine":{"cpu":0.5,"memory":1}}}"""));

        var message = Read(body);

        Assert.Equal("run_\\u00e9\\\"x", message.RunIdText(body));
    }

    [Fact]
    public void The_run_and_snapshot_friendly_ids_that_attempts_start_names_are_found()
    {
        var body = DispatchBodies.Utf8(DispatchBodies.Valid);

        var message = Read(body);

        Assert.True(message.HasAttemptIds);
        Assert.Equal("run_1234", DispatchMessage.Text(body, message.RunFriendlyId));
        Assert.Equal("snapshot_1", DispatchMessage.Text(body, message.SnapshotFriendlyId));
    }

    [Theory]
    [InlineData(""","snapshot":null""")]
    [InlineData(""","snapshot":"snapshot_1" """)]
    [InlineData(""","snapshot":{"id":"snap_1"}""")]
    [InlineData("")]
    public void A_missing_or_odd_snapshot_is_no_reason_to_refuse_but_leaves_no_attempt_ids(string snapshot)
    {
        var body = DispatchBodies.Utf8(DispatchBodies.Wrap(
            $$$"""{"deployment":{"friendlyId":"deployment_abc"},"backgroundWorker":{"version":"20240101.1"},"run":{"friendlyId":"run_1","machine":{"cpu":0.5,"memory":1}}{{{snapshot}}}}"""));

        Assert.False(Read(body).HasAttemptIds);
    }

    [Fact]
    public void Of_repeated_snapshots_the_last_counts_as_for_the_controller()
    {
        var body = DispatchBodies.Utf8(DispatchBodies.Wrap(
            """{"snapshot":{"friendlyId":"snapshot_first"},"deployment":{"friendlyId":"deployment_abc"},"backgroundWorker":{"version":"20240101.1"},"run":{"friendlyId":"run_1","machine":{"cpu":0.5,"memory":1}},"snapshot":{"friendlyId":"snapshot_last"}}"""));

        var message = Read(body);

        Assert.Equal("snapshot_last", DispatchMessage.Text(body, message.SnapshotFriendlyId));
    }

    [Fact]
    public void Escaped_ids_are_unescaped_for_confirmation_and_a_lone_surrogate_does_not_throw()
    {
        var body = DispatchBodies.Utf8(DispatchBodies.Wrap(
            """{"deployment":{"friendlyId":"deployment_abc"},"backgroundWorker":{"version":"20240101.1"},"run":{"friendlyId":"run_\u00e9\"x","machine":{"cpu":0.5,"memory":1}},"snapshot":{"friendlyId":"snap_\ud800"}}"""));

        var message = Read(body);

        Assert.Equal("run_é\"x", DispatchMessage.Text(body, message.RunFriendlyId));
        Assert.Equal("snap_\\ud800", DispatchMessage.Text(body, message.SnapshotFriendlyId));
    }

    public static TheoryData<string, string> MissingFields => new()
    {
        { DispatchBodies.Wrap("""{"deployment":{"id":"x"},"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1,"memory":1}}}"""), FriendlyIdPath },
        { DispatchBodies.Wrap("""{"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1,"memory":1}}}"""), FriendlyIdPath },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"d"},"backgroundWorker":{"id":"w"},"run":{"machine":{"cpu":1,"memory":1}}}"""), VersionPath },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"d"},"run":{"machine":{"cpu":1,"memory":1}}}"""), VersionPath },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"d"},"backgroundWorker":{"version":"v"},"run":{"machine":{"memory":1}}}"""), CpuPath },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"d"},"backgroundWorker":{"version":"v"},"run":{"machine":{}}}"""), CpuPath },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"d"},"backgroundWorker":{"version":"v"},"run":{"friendlyId":"r"}}"""), CpuPath },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"d"},"backgroundWorker":{"version":"v"}}"""), CpuPath },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"d"},"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1}}}"""), MemoryPath },
        { DispatchBodies.Wrap("""{}"""), FriendlyIdPath },
    };

    [Theory]
    [MemberData(nameof(MissingFields))]
    public void A_missing_match_field_is_named_in_the_problem(string body, string path)
    {
        Assert.Equal($"The dispatch lacks '{path}', one of the four fields a run is matched on.", Refuse(body));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"message":{}}""")]
    [InlineData("""{"DequeuedMessage":{}}""")]
    public void A_body_without_a_dequeued_message_is_refused(string body)
    {
        Assert.Equal("The body has no 'dequeuedMessage' property.", Refuse(body));
    }

    public static TheoryData<string, string> WrongTypes => new()
    {
        { DispatchBodies.WithFields(friendlyId: "123"), $"'{FriendlyIdPath}' must be a JSON string." },
        { DispatchBodies.WithFields(friendlyId: "null"), $"'{FriendlyIdPath}' must be a JSON string." },
        { DispatchBodies.WithFields(friendlyId: "true"), $"'{FriendlyIdPath}' must be a JSON string." },
        { DispatchBodies.WithFields(friendlyId: """{"id":"x"}"""), $"'{FriendlyIdPath}' must be a JSON string." },
        { DispatchBodies.WithFields(friendlyId: """["deployment_abc"]"""), $"'{FriendlyIdPath}' must be a JSON string." },
        { DispatchBodies.WithFields(version: "20240101"), $"'{VersionPath}' must be a JSON string." },
        { DispatchBodies.WithFields(version: "null"), $"'{VersionPath}' must be a JSON string." },
        { DispatchBodies.WithFields(cpu: "\"1\""), $"'{CpuPath}' must be a JSON number." },
        { DispatchBodies.WithFields(cpu: "null"), $"'{CpuPath}' must be a JSON number." },
        { DispatchBodies.WithFields(cpu: "[1]"), $"'{CpuPath}' must be a JSON number." },
        { DispatchBodies.WithFields(cpu: """{"value":1}"""), $"'{CpuPath}' must be a JSON number." },
        { DispatchBodies.WithFields(cpu: "false"), $"'{CpuPath}' must be a JSON number." },
        { DispatchBodies.WithFields(memory: "\"2\""), $"'{MemoryPath}' must be a JSON number." },
        { DispatchBodies.WithFields(memory: "null"), $"'{MemoryPath}' must be a JSON number." },
        { DispatchBodies.Wrap("""{"deployment":["deployment_abc"],"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1,"memory":1}}}"""), "'dequeuedMessage.deployment' must be a JSON object." },
        { DispatchBodies.Wrap("""{"deployment":"deployment_abc","backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1,"memory":1}}}"""), "'dequeuedMessage.deployment' must be a JSON object." },
        { DispatchBodies.Wrap("""{"deployment":null,"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1,"memory":1}}}"""), "'dequeuedMessage.deployment' must be a JSON object." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"d"},"backgroundWorker":5,"run":{"machine":{"cpu":1,"memory":1}}}"""), "'dequeuedMessage.backgroundWorker' must be a JSON object." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"d"},"backgroundWorker":{"version":"v"},"run":[{"machine":{"cpu":1,"memory":1}}]}"""), "'dequeuedMessage.run' must be a JSON object." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"d"},"backgroundWorker":{"version":"v"},"run":{"machine":"small-1x"}}"""), "'dequeuedMessage.run.machine' must be a JSON object." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"d"},"backgroundWorker":{"version":"v"},"run":{"machine":null}}"""), "'dequeuedMessage.run.machine' must be a JSON object." },
        { """{"dequeuedMessage":[]}""", "'dequeuedMessage' must be a JSON object." },
        { """{"dequeuedMessage":"{}"}""", "'dequeuedMessage' must be a JSON object." },
        { """{"dequeuedMessage":null}""", "'dequeuedMessage' must be a JSON object." },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public void A_match_field_of_the_wrong_json_type_is_named_in_the_problem(string body, string expected)
    {
        Assert.Equal(expected, Refuse(body));
    }

    [Fact]
    public void An_empty_friendly_id_is_refused()
    {
        Assert.Equal($"'{FriendlyIdPath}' must not be empty.", Refuse(DispatchBodies.WithFields(friendlyId: "\"\"")));
    }

    [Fact]
    public void An_empty_version_is_refused()
    {
        Assert.Equal($"'{VersionPath}' must not be empty.", Refuse(DispatchBodies.WithFields(version: "\"\"")));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-0.25")]
    [InlineData("-1e-300")]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    public void A_negative_or_non_finite_cpu_is_refused(string cpu)
    {
        Assert.Equal($"'{CpuPath}' must be a finite, non-negative number.", Refuse(DispatchBodies.WithFields(cpu: cpu)));
    }

    [Theory]
    [InlineData("-2")]
    [InlineData("1e400")]
    [InlineData("1E309")]
    public void A_negative_or_non_finite_memory_is_refused(string memory)
    {
        Assert.Equal($"'{MemoryPath}' must be a finite, non-negative number.", Refuse(DispatchBodies.WithFields(memory: memory)));
    }

    [Fact]
    public void Large_finite_sizes_are_accepted()
    {
        Assert.Equal(1e308, Read(DispatchBodies.WithFields(memory: "1e308")).Key.Memory);
    }

    public static TheoryData<string, string> Duplicates => new()
    {
        { $$"""{"dequeuedMessage":{{DispatchBodies.Message}},"dequeuedMessage":{{DispatchBodies.Message}}}""", "The body has more than one 'dequeuedMessage' property." },
        { $$$"""{"dequeuedMessage":{{{DispatchBodies.Message}}},"dequeued\u004Dessage":{}}""", "The body has more than one 'dequeuedMessage' property." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"a","friendlyId":"b"},"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1,"memory":1}}}"""), $"The body has more than one '{FriendlyIdPath}' property." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"a","\u0066riendlyId":"a"},"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1,"memory":1}}}"""), $"The body has more than one '{FriendlyIdPath}' property." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"a"},"backgroundWorker":{"version":"v","version":"w"},"run":{"machine":{"cpu":1,"memory":1}}}"""), $"The body has more than one '{VersionPath}' property." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"a"},"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1,"memory":1,"cpu":2}}}"""), $"The body has more than one '{CpuPath}' property." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"a"},"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1,"memory":1,"memory":1}}}"""), $"The body has more than one '{MemoryPath}' property." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"a"},"deployment":{"friendlyId":"b"},"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1,"memory":1}}}"""), "The body has more than one 'dequeuedMessage.deployment' property." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"a"},"deployment":{},"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1,"memory":1}}}"""), "The body has more than one 'dequeuedMessage.deployment' property." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"a"},"backgroundWorker":{"version":"v"},"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1,"memory":1}}}"""), "The body has more than one 'dequeuedMessage.backgroundWorker' property." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"a"},"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1,"memory":1}},"run":{}}"""), "The body has more than one 'dequeuedMessage.run' property." },
        { DispatchBodies.Wrap("""{"deployment":{"friendlyId":"a"},"backgroundWorker":{"version":"v"},"run":{"machine":{"cpu":1},"machine":{"memory":1}}}"""), "The body has more than one 'dequeuedMessage.run.machine' property." },
    };

    [Theory]
    [MemberData(nameof(Duplicates))]
    public void A_repeated_match_property_is_refused(string body, string expected)
    {
        Assert.Equal(expected, Refuse(body));
    }

    [Fact]
    public void Repeated_unknown_properties_are_fine()
    {
        var body = DispatchBodies.Wrap(
            """{"x":1,"x":2,"deployment":{"id":"a","id":"b","friendlyId":"deployment_abc"},"backgroundWorker":{"version":"20240101.1"},"run":{"machine":{"name":"a","name":"b","cpu":0.5,"memory":1}}}""");

        Assert.Equal(ExpectedKey, Read(body).Key);
    }

    [Theory]
    [InlineData("hello")]
    [InlineData("{")]
    [InlineData("}")]
    [InlineData("{dequeuedMessage:{}}")]
    [InlineData("{'dequeuedMessage':{}}")]
    [InlineData("<dequeuedMessage/>")]
    [InlineData("""{"dequeuedMessage":{"run":{}},}""")]
    [InlineData("""{"dequeuedMessage":{"run":{},}}""")]
    [InlineData("""{"dequeuedMessage":{"run":{}}/* comment */}""")]
    [InlineData("""{"dequeuedMessage" {}}""")]
    [InlineData("""{"dequeuedMessage":{"deployment":{"friendlyId":"unterminated}}}""")]
    [InlineData("""{"dequeuedMessage":{"deployment":{"friendlyId":"bad \x escape"}}}""")]
    [InlineData("""{"dequeuedMessage":{"run":{"machine":{"cpu":01,"memory":1}}}}""")]
    [InlineData("""{"dequeuedMessage":{"run":{"machine":{"cpu":.5,"memory":1}}}}""")]
    [InlineData("""{"dequeuedMessage":{"run":{"machine":{"cpu":NaN,"memory":1}}}}""")]
    [InlineData("""{"dequeuedMessage":{"run":{"machine":{"cpu":Infinity,"memory":1}}}}""")]
    [InlineData("   ")]
    public void A_body_that_is_not_json_is_refused_as_such(string body)
    {
        Assert.StartsWith("The body is not valid JSON", Refuse(body), StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_body_is_refused()
    {
        Assert.Equal("The body is empty; expected {\"dequeuedMessage\":{…}}.", Refuse([]));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("""[{"dequeuedMessage":{}}]""")]
    [InlineData("\"dequeuedMessage\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("true")]
    public void A_body_that_is_not_an_object_is_refused(string body)
    {
        Assert.Equal("The body must be a JSON object: {\"dequeuedMessage\":{…}}.", Refuse(body));
    }

    [Theory]
    [InlineData(" x")]
    [InlineData("{}")]
    [InlineData(",")]
    [InlineData("}")]
    [InlineData("]")]
    [InlineData(" null")]
    [InlineData("\"trailing\"")]
    public void Trailing_content_after_the_body_is_refused(string trailing)
    {
        Assert.StartsWith("The body is not valid JSON", Refuse(DispatchBodies.Valid + trailing), StringComparison.Ordinal);
    }

    [Fact]
    public void Whitespace_around_the_body_is_fine()
    {
        Assert.Equal(ExpectedKey, Read(" \r\n\t" + DispatchBodies.Valid + " \r\n\t").Key);
    }

    [Fact]
    public void Every_truncation_of_a_valid_body_is_refused_as_invalid_json_without_throwing()
    {
        // A body with escapes, unicode, numbers of every shape, arrays and nested unknown members.
        const string Message =
            """{"a":[1,-2.5e-3,true,false,null,{"b":"\u00e9\"\\"}],"deployment":{"friendlyId":"dép\u00e9"},"backgroundWorker":{"version":"v\"1"},"run":{"id":"r","friendlyId":"run_1","machine":{"cpu":2.5E-1,"memory":1e0}},"z":"🚀"}""";
        var body = DispatchBodies.Utf8(DispatchBodies.Wrap(Message));
        Read(body);

        for (var length = 1; length < body.Length; length++)
        {
            var prefix = body.AsSpan(0, length);
            var ok = DispatchMessageReader.TryRead(prefix, MaxDepth, out _, out var problem);

            Assert.False(ok, $"a body cut to {length} bytes was accepted");
            Assert.NotNull(problem);
            Assert.StartsWith("The body is not valid JSON", problem, StringComparison.Ordinal);
        }
    }

    private static string NestedObjects(int levels) =>
        string.Concat(Enumerable.Repeat("""{"n":""", levels)) + "1" + new string('}', levels);

    private static string NestedArrays(int levels) => new string('[', levels) + new string(']', levels);

    // The root object and dequeuedMessage are two levels; the nested unknown member adds the rest.
    private static string BodyNestedTo(int depth, Func<int, string> nest) =>
        DispatchBodies.Wrap(DispatchBodies.Message.Insert(1, $$"""
            "deep":{{nest(depth - 2)}},
            """));

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(64)]
    public void A_body_nested_exactly_to_the_limit_is_accepted(int maxDepth)
    {
        Assert.Equal(ExpectedKey, Read(BodyNestedTo(maxDepth, NestedObjects), maxDepth).Key);
        Assert.Equal(ExpectedKey, Read(BodyNestedTo(maxDepth, NestedArrays), maxDepth).Key);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(64)]
    public void A_body_nested_deeper_than_the_limit_with_objects_gets_the_depth_problem(int maxDepth)
    {
        Assert.Equal(
            $"The body is nested deeper than {maxDepth} levels.",
            Refuse(BodyNestedTo(maxDepth + 1, NestedObjects), maxDepth));
    }

    [Fact]
    public void A_body_nested_far_deeper_than_the_limit_gets_the_depth_problem()
    {
        Assert.Equal(
            "The body is nested deeper than 64 levels.",
            Refuse(BodyNestedTo(10_000, NestedObjects), 64));
    }

    [Theory]
    [InlineData(8)]
    [InlineData(64)]
    public void A_body_nested_deeper_than_the_limit_with_arrays_gets_the_depth_problem(int maxDepth)
    {
        Assert.Equal(
            $"The body is nested deeper than {maxDepth} levels.",
            Refuse(BodyNestedTo(maxDepth + 1, NestedArrays), maxDepth));
    }

    [Fact]
    public void A_truncated_body_within_the_depth_limit_is_not_reported_as_too_deep()
    {
        var body = BodyNestedTo(8, NestedObjects);
        Read(body, 8);
        var cut = body[..(body.IndexOf("\"n\":1", StringComparison.Ordinal) + 5)];

        Assert.StartsWith("The body is not valid JSON", Refuse(cut, 8), StringComparison.Ordinal);
    }

    [Fact]
    public void A_match_field_with_a_lone_surrogate_escape_is_refused_without_throwing()
    {
        Refuse(DispatchBodies.WithFields(friendlyId: "\"\\uD800\""));
    }

    [Fact]
    public void A_match_field_that_is_not_utf8_is_refused_without_throwing()
    {
        var body = Encoding.UTF8.GetBytes(DispatchBodies.WithFields(version: "\"v@1\""));
        body[Array.IndexOf(body, (byte)'@')] = 0xFF;

        Refuse(body);
    }

    [Theory]
    [InlineData("""{"dequeuedMessage":{"deploy\ud800ment":{"friendlyId":"d"}}}""")]
    [InlineData("""{"d\ud800equeuedMessage":{}}""")]
    public void A_property_name_escaping_a_lone_surrogate_is_refused_not_thrown(string json)
    {
        // Found by the fuzz test: comparing such a name throws InvalidOperationException.
        Assert.Contains("not valid UTF-16", Refuse(json), StringComparison.Ordinal);
    }
}
